// Watches a waiting-room token: Server-Sent Events when the server offers them, polling otherwise.
import { api, ApiError } from './api.js';
import { followStream } from './event-stream.js';
import { isTurnLost } from './queue-tokens.js';

const POLL_MS = 1000;
// While the stream is open a slow poll keeps going as well: it proves presence to the waiting room
// and catches a stream that stays open but silent.
const HEARTBEAT_MS = 5000;

/**
 * watchQueue(token, { onUpdate(snapshot, mode), onError(error), onMode(mode) }) → stop()
 * mode is 'live' (stream) or 'polling'. onError gets ApiErrors from polling; fatal ones
 * (expired/invalid token) stop the watcher.
 */
export function watchQueue(token, { onUpdate, onError, onMode }) {
  let stopped = false;
  let source = null;
  let timer = null;
  let mode = null;
  let inFlight = false;

  const setMode = (next) => {
    if (mode === next) return;
    mode = next;
    onMode?.(next);
  };

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    source?.close();
    source = null;
  };

  const deliver = (snapshot) => {
    if (stopped || !snapshot || typeof snapshot !== 'object') return;
    if (snapshot.status === 'EXPIRED') {
      // The stream's last word: this token is over (turn used or timed out).
      stop();
      onError?.(new ApiError(401, { code: 'QUEUE_TOKEN_EXPIRED', title: 'Queue token has expired' }), true);
      return;
    }
    // Also a last word: the line closed because every seat is sold.
    if (snapshot.status === 'SOLD_OUT') stop();
    onUpdate(snapshot, mode);
  };

  const poll = async () => {
    if (stopped || inFlight) return;
    inFlight = true;
    try {
      deliver(await api.queueStatus(token));
    } catch (error) {
      if (stopped) return;
      const fatal = isTurnLost(error) || (error instanceof ApiError && error.code === 'UNAUTHORIZED');
      onError?.(error, fatal);
      if (fatal) {
        stop();
        return;
      }
    } finally {
      inFlight = false;
    }
    schedule();
  };

  const schedule = () => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(poll, mode === 'live' ? HEARTBEAT_MS : POLL_MS);
  };

  const fallBackToPolling = () => {
    source?.close();
    source = null;
    setMode('polling');
    schedule();
  };

  const openStream = () => {
    source = followStream(api.queueStreamUrl(token), {
      onOpen: () => {
        if (!stopped) setMode('live');
      },
      onMessage: deliver,
      // A 404 (no stream on this server), a non-event-stream answer or a dropped connection: polling takes
      // over for the rest of this visit.
      onFail: () => {
        if (!stopped) fallBackToPolling();
      },
    }) ?? null;
  };

  // Show the first state at once, then follow it.
  setMode('polling');
  poll().then(() => {
    if (!stopped) openStream();
  });

  return stop;
}
