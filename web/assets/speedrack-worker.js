// speedrack's one live connection per browser.
//
// As a SharedWorker (one per browser for every tab of the gateway), this holds the one
// EventSource to /live that carries every tab's subscriptions (see web/src/sse/live.rs) and
// relays each message to the tab that asked for it. Browsers allow few connections per host
// (six in Chrome over HTTP/1.1): a stream per tab would leave none for the pages themselves.
//
// Loaded as a page script (for browsers without SharedWorker), it only defines SpeedrackHub,
// which the page then runs for itself (speedrack.js), closing it while the tab is hidden.
'use strict';

/** Every subscription of this browser (or tab) on one /live stream. */
class SpeedrackHub {
  /** How long to wait before reconnecting after the stream broke, at first and at most. */
  static RETRY_MS = 2000;
  static RETRY_MAX_MS = 30000;
  /**
   * Dropping a subscription only frees the server's relay: it waits, as a tab that navigates
   * adds its next page's soon (which reopens the stream at once), and a stream that is opened
   * again makes pages that had no event yet refresh once.
   */
  static DROP_DELAY_MS = 30000;
  /** As MAX_SUBSCRIPTIONS in live.rs. */
  static MAX_SUBSCRIPTIONS = 48;

  constructor(liveUrl) {
    this.liveUrl = liveUrl;
    /** number -> { url, lastId, deliver(type, data, id) } */
    this.subs = new Map();
    this.nextSub = 1;
    this.source = null;
    this.timer = null;
    this.due = Infinity;
    this.retry = SpeedrackHub.RETRY_MS;
    this.suspended = false;
  }

  /** Subscribes to the stream `url` names; 0 when there are too many already. */
  add(url, deliver) {
    if (this.subs.size >= SpeedrackHub.MAX_SUBSCRIPTIONS) {
      console.warn('speedrack: too many live subscriptions, ' + url + ' is not followed');
      return 0;
    }
    const sub = this.nextSub++;
    this.subs.set(sub, { url, lastId: '', deliver });
    this.reopenIn(0);
    return sub;
  }

  remove(sub) {
    if (this.subs.delete(sub)) {
      this.reopenIn(SpeedrackHub.DROP_DELAY_MS);
    }
  }

  suspend() {
    this.suspended = true;
    this.close();
  }

  resume() {
    this.suspended = false;
    this.reopenIn(0);
  }

  /** Opens the stream again with the current subscriptions in `ms`, or sooner if due sooner. */
  reopenIn(ms) {
    const due = Date.now() + ms;
    if (this.timer !== null && this.due <= due) {
      return;
    }
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.due = Infinity;
      this.open();
    }, ms);
  }

  close() {
    if (this.source !== null) {
      this.source.close();
      this.source = null;
    }
  }

  open() {
    this.close();
    if (this.suspended || this.subs.size === 0) {
      return;
    }
    const lines = [];
    for (const [sub, { url, lastId }] of this.subs) {
      lines.push((sub + ' ' + url + ' ' + lastId).trimEnd());
    }
    const source = new EventSource(this.liveUrl + '?s=' + encodeURIComponent(lines.join('\n')));
    source.onmessage = (event) => {
      this.retry = SpeedrackHub.RETRY_MS;
      this.dispatch(event.data);
    };
    source.onerror = () => {
      // Our own retry, with each subscription's own last id: the browser's would send one id.
      source.close();
      if (this.source === source) {
        this.source = null;
        this.reopenIn(this.retry);
        this.retry = Math.min(this.retry * 2, SpeedrackHub.RETRY_MAX_MS);
      }
    };
    this.source = source;
  }

  /** One tagged message, `SUB\nTYPE\nID\nDATA`, to its subscriber. */
  dispatch(text) {
    const parts = text.split('\n');
    if (parts.length < 4) {
      return;
    }
    const sub = this.subs.get(Number(parts[0]));
    if (sub === undefined) {
      return;
    }
    const id = parts[2];
    if (id !== '') {
      sub.lastId = id;
    }
    sub.deliver(parts[1], parts.slice(3).join('\n'), id);
  }
}

if (typeof SharedWorkerGlobalScope !== 'undefined' && self instanceof SharedWorkerGlobalScope) {
  // This file is served from PREFIX/assets/: the stream is PREFIX/live.
  const hub = new SpeedrackHub(new URL('../live', self.location.href).href);
  self.onconnect = (connected) => {
    const port = connected.ports[0];
    /** The tab's key of each of its sources -> the hub's subscription. */
    const mine = new Map();
    const dropAll = () => {
      for (const sub of mine.values()) {
        hub.remove(sub);
      }
      mine.clear();
    };
    port.onmessage = ({ data }) => {
      if (data.op === 'open') {
        const relay = (type, payload, id) =>
          port.postMessage({ key: data.key, type, data: payload, id });
        const sub = hub.add(data.url, relay);
        if (sub !== 0) {
          mine.set(data.key, sub);
        }
      } else if (data.op === 'close') {
        hub.remove(mine.get(data.key));
        mine.delete(data.key);
      } else if (data.op === 'bye') {
        dropAll();
      } else if (data.op === 'lock' && self.navigator.locks) {
        // The tab holds this lock while it lives: the worker gets it once the tab is gone,
        // even if it crashed without saying bye.
        self.navigator.locks.request(data.name, dropAll);
      }
    };
  };
}
