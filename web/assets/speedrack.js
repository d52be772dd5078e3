// speedrack's page script: what a page does by itself once loaded. Every page is complete
// without it (JS off); this only keeps it live.
//
// - Live streams: htmx's sse extension asks htmx.createEventSource for each `sse-connect`; here
//   that is a stand-in fed by the browser's one SharedWorker (speedrack-worker.js), so that any
//   number of tabs share one connection. Without SharedWorker the tab runs the same hub itself
//   and closes its stream while hidden.
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

  const link =
    typeof SharedWorker === 'function'
      ? workerLink(script.dataset.worker)
      : tabLink(script.dataset.live);

  /** What htmx's sse extension takes for an EventSource. */
  class SharedSource {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.listeners = new Map();
      this.onopen = null;
      this.onerror = null;
      this.key = link.open(url, this);
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
        link.close(this.key);
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

  htmx.createEventSource = (url) => new SharedSource(url);
})();
