// speedrack's page script: what a page does by itself once loaded. Every page is complete
// without it (JS off); this only keeps it live.
//
// - Live streams: htmx's sse extension asks htmx.createEventSource for each `sse-connect`; here
//   that is a stand-in fed by the browser's one SharedWorker (speedrack-worker.js), so that any
//   number of tabs share one connection. Without SharedWorker the tab runs the same hub itself
//   and closes its stream while hidden.
// - Live tails follow: a running run's output stays scrolled to its end while the reader is
//   there, and its byte counts move with it.
// - Times tick: relative times ("12 s ago") and a running run's elapsed time count on; hovering
//   one shows the instant in the zone chosen with the UTC/local switch (`data-times` on <html>).
'use strict';

(function () {
  const script = document.currentScript;

  /** How this tab reaches its streams: open(url, source) -> key, close(key). */
  function workerLink(workerUrl) {
    const worker = new SharedWorker(workerUrl, { name: 'speedrack-live' });
    const sources = new Map();
    let nextKey = 1;
    worker.port.onmessage = ({ data }) => {
      const source = sources.get(data.key);
      if (source !== undefined) {
        source.deliver(data.type, data.data, data.id);
      }
    };
    if (navigator.locks) {
      // Held until this tab is gone, so the worker can tell (see speedrack-worker.js).
      const name = 'speedrack-tab-' + Date.now() + '-' + Math.random().toString(36).slice(2);
      // The worker hears of it once this tab holds it, or it could take it first.
      navigator.locks.request(name, () => {
        worker.port.postMessage({ op: 'lock', name });
        return new Promise(() => {});
      });
    }
    const send = (source, key) => worker.port.postMessage({ op: 'open', key, url: source.url });
    window.addEventListener('pagehide', () => worker.port.postMessage({ op: 'bye' }));
    window.addEventListener('pageshow', (event) => {
      if (event.persisted) {
        sources.forEach(send);
      }
    });
    return {
      open(url, source) {
        const key = nextKey++;
        sources.set(key, source);
        send(source, key);
        return key;
      },
      close(key) {
        sources.delete(key);
        worker.port.postMessage({ op: 'close', key });
      },
    };
  }

  /** The same, for browsers without SharedWorker: a hub of this tab's own, closed while hidden. */
  function tabLink(liveUrl) {
    const hub = new SpeedrackHub(liveUrl);
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) {
        hub.suspend();
      } else {
        hub.resume();
      }
    });
    if (document.hidden) {
      hub.suspend();
    }
    return {
      open: (url, source) => hub.add(url, source.deliver.bind(source)),
      close: (key) => hub.remove(key),
    };
  }

  /** The shared worker's link where the browser has SharedWorker and lets this page use it. */
  function link() {
    if (typeof SharedWorker === 'function') {
      try {
        return workerLink(script.dataset.worker);
      } catch (refused) {
        console.warn('speedrack: no SharedWorker (' + refused + '), this tab has its own stream');
      }
    }
    return tabLink(script.dataset.live);
  }
  const streams = link();

  /** What htmx's sse extension takes for an EventSource. */
  class SharedSource {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.listeners = new Map();
      this.onopen = null;
      this.onerror = null;
      this.key = streams.open(url, this);
    }

    addEventListener(type, listener) {
      if (!this.listeners.has(type)) {
        this.listeners.set(type, new Set());
      }
      this.listeners.get(type).add(listener);
    }

    removeEventListener(type, listener) {
      const listeners = this.listeners.get(type);
      if (listeners !== undefined) {
        listeners.delete(listener);
      }
    }

    close() {
      if (this.readyState !== 2) {
        this.readyState = 2;
        streams.close(this.key);
      }
    }

    deliver(type, data, id) {
      if (this.readyState === 2) {
        return;
      }
      this.readyState = 1;
      const event = new MessageEvent(type, { data, lastEventId: id || '' });
      for (const listener of [...(this.listeners.get(type) || [])]) {
        listener.call(this, event);
      }
    }
  }

  /** The streams /live carries (see parse_line in web/src/sse/live.rs); others get their own. */
  const SHARED = /^\/(events|tasks\/[^/?]+\/runs\/[^/?]+\/tail)(\?|$)/;
  const prefix = script.dataset.live.replace(/\/live$/, '');
  const shared = (url) => url.startsWith(prefix + '/') && SHARED.test(url.slice(prefix.length));

  htmx.createEventSource = (url) =>
    shared(url) ? new SharedSource(url) : new EventSource(url, { withCredentials: true });
})();

(function () {
  /** Within this many pixels of its end, an output is where new text arrives. */
  const SLACK_PX = 4;
  const atEnd = (pre) => pre.scrollHeight - pre.scrollTop - pre.clientHeight <= SLACK_PX;
  const toEnd = (pre) => {
    pre.scrollTop = pre.scrollHeight;
  };
  const tails = (root) => root.querySelectorAll('pre[data-stream][sse-swap]');
  /** Outputs that were at their end when text arrived, until it is appended. */
  const following = new WeakSet();

  document.addEventListener('htmx:sseBeforeMessage', (event) => {
    const pre = event.target;
    if (pre.matches('pre[data-stream]') && atEnd(pre)) {
      following.add(pre);
    }
  });
  document.addEventListener('htmx:sseMessage', (event) => {
    const pre = event.target;
    if (following.delete(pre)) {
      toEnd(pre);
    }
    // A tail's event id is how far each stream has been sent, in bytes: "OUT:ERR".
    const id = (event.detail && event.detail.lastEventId) || '';
    const [out, err] = id.split(':');
    const view = pre.closest('#run-view');
    if (view !== null && err !== undefined) {
      showSize(view, 'stdout', out);
      showSize(view, 'stderr', err);
    }
  });
  // A tab shown for the first time shows its end too.
  document.addEventListener('shown.bs.tab', () => tails(document).forEach(toEnd));
  htmx.onLoad((root) => tails(root).forEach(toEnd));

  function showSize(view, stream, offset) {
    const count = Number(offset);
    if (offset === '-' || !Number.isSafeInteger(count)) {
      return;
    }
    view.querySelectorAll('[data-tab="' + stream + '"] [data-size]').forEach((badge) => {
      if (count > Number(badge.dataset.size)) {
        badge.dataset.size = String(count);
        badge.textContent = bytes(count);
      }
    });
  }

  /** As time::bytes in web/src/views/time.rs. */
  function bytes(count) {
    const units = ['KiB', 'MiB', 'GiB', 'TiB'];
    if (count < 1024) {
      return count + ' B';
    }
    let value = count / 1024;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit += 1;
    }
    return value.toFixed(1) + ' ' + units[unit];
  }
})();

(function () {
  const root = document.documentElement;
  const local = root.dataset.times === 'local';
  // The page's own clock against the server's, so that "12 s ago" agrees with the server's.
  const skew = Date.parse(root.dataset.now || '') - Date.now() || 0;
  const now = () => Date.now() + skew;

  /** As time::relative in web/src/views/time.rs. */
  function relative(seconds) {
    const span = Math.abs(seconds);
    if (span < 1) {
      return 'now';
    }
    const amount =
      span < 60
        ? span + ' s'
        : span < 3600
          ? Math.floor(span / 60) + ' min'
          : span < 86400
            ? Math.floor(span / 3600) + ' h'
            : Math.floor(span / 86400) + ' d';
    return seconds < 0 ? amount + ' ago' : 'in ' + amount;
  }

  /** As time::elapsed in web/src/views/time.rs. */
  function elapsed(seconds) {
    const whole = Math.max(0, seconds);
    if (whole < 60) {
      return whole + ' s';
    }
    if (whole < 3600) {
      return Math.floor(whole / 60) + ' min ' + (whole % 60) + ' s';
    }
    return Math.floor(whole / 3600) + ' h ' + Math.floor((whole % 3600) / 60) + ' min';
  }

  const pad = (number) => String(number).padStart(2, '0');

  /** "2026-12-01 05:04:03 CET" in this browser's zone, or the same in UTC. */
  function exact(at) {
    if (!local) {
      return at.toISOString().slice(0, 19).replace('T', ' ') + ' UTC';
    }
    const zone = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' })
      .formatToParts(at)
      .find((part) => part.type === 'timeZoneName');
    const day = at.getFullYear() + '-' + pad(at.getMonth() + 1) + '-' + pad(at.getDate());
    const time = pad(at.getHours()) + ':' + pad(at.getMinutes()) + ':' + pad(at.getSeconds());
    return day + ' ' + time + (zone ? ' ' + zone.value : '');
  }

  function tick() {
    const current = now();
    document.querySelectorAll('time[data-relative]').forEach((time) => {
      const at = Date.parse(time.dateTime);
      if (!Number.isNaN(at)) {
        time.textContent = relative(Math.trunc((at - current) / 1000));
      }
    });
    document.querySelectorAll('[data-elapsed-from]').forEach((span) => {
      const from = Date.parse(span.dataset.elapsedFrom);
      if (!Number.isNaN(from)) {
        span.textContent = elapsed(Math.trunc((current - from) / 1000));
      }
    });
  }

  htmx.onLoad((loaded) => {
    loaded.querySelectorAll('time[datetime]').forEach((time) => {
      const at = new Date(time.dateTime);
      if (!Number.isNaN(at.getTime())) {
        time.title = exact(at);
        if (time.hasAttribute('data-absolute')) {
          time.textContent = exact(at);
        }
      }
    });
    tick();
  });
  setInterval(tick, 1000);
})();
