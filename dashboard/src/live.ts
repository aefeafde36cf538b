// The live feed: §12's event stream, read with fetch (EventSource cannot send the token),
// reconnecting with Last-Event-ID after any break, so that a server restart loses nothing.
import { useEffect, useState } from 'preact/hooks';
import { ADVICE } from './api.js';
import { currentToken, refused } from './session.js';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting' | 'signed-out';

interface LiveState {
  status: LiveStatus;
  /** Grows by one for every batch of changes; views reload when it moves. */
  changes: number;
}

let state: LiveState = { status: 'connecting', changes: 0 };
const subscribers = new Set<(s: LiveState) => void>();
const set = (next: Partial<LiveState>) => {
  state = { ...state, ...next };
  subscribers.forEach((s) => s(state));
};

const RETRY_MS = [500, 1000, 2000, 5000];
let lastEventId: string | undefined;
let running: AbortController | undefined;
let pending: ReturnType<typeof setTimeout> | undefined;

/** Changes arriving together make one reload, at most every 300 ms. */
function changed(): void {
  pending ??= setTimeout(() => {
    pending = undefined;
    set({ changes: state.changes + 1 });
  }, 300);
}

async function readStream(signal: AbortSignal): Promise<'signed-out' | 'ended'> {
  const headers: Record<string, string> = {
    Accept: 'text/event-stream',
    Authorization: `Bearer ${currentToken() ?? ''}`,
  };
  if (lastEventId) headers['Last-Event-ID'] = lastEventId;
  const response = await fetch('/v1/events', { headers, signal, cache: 'no-store' });
  if (response.status === 401) return 'signed-out';
  // An event id the server no longer keeps: start again from now, then reload the view.
  if (response.status === 400 && lastEventId) {
    lastEventId = undefined;
    changed();
    return 'ended';
  }
  if (!response.ok || !response.body) return 'ended';
  // Back after a break: whatever changed meanwhile is shown by reloading the view.
  if (state.status === 'reconnecting') changed();
  set({ status: 'live' });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let id: string | undefined;
  let data = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return 'ended';
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end).replace(/\r$/, '');
      buffer = buffer.slice(end + 1);
      if (line === '') {
        if (id !== undefined) lastEventId = id;
        if (data) changed();
        id = undefined;
        data = false;
      } else if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data = true;
    }
  }
}

/** Starts the feed (once per sign-in); it runs until stopLive(). */
export function startLive(): void {
  if (running) return;
  const controller = new AbortController();
  running = controller;
  void (async () => {
    for (let attempt = 0; !controller.signal.aborted; attempt++) {
      let outcome: 'signed-out' | 'ended' = 'ended';
      try {
        outcome = await readStream(controller.signal);
        if (state.status === 'live') attempt = 0;
      } catch {
        // A broken connection (server restart, network) is retried below.
      }
      if (controller.signal.aborted) return;
      if (outcome === 'signed-out') {
        set({ status: 'signed-out' });
        return refused(ADVICE[401]);
      }
      set({ status: 'reconnecting' });
      await new Promise((r) => setTimeout(r, RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]));
    }
  })();
}

export function stopLive(): void {
  running?.abort();
  running = undefined;
  lastEventId = undefined;
  set({ status: 'connecting' });
}

export function useLive(): LiveState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    subscribers.add(setCurrent);
    setCurrent(state);
    return () => void subscribers.delete(setCurrent);
  }, []);
  return current;
}
