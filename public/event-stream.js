// A Server-Sent Events stream of JSON messages, for the screens that follow one (the waiting room, the
// seat map). Where a stream cannot be kept (no EventSource, a URL refused, a 404, a dropped connection)
// `onFail` is called and the screen polls instead.
export function followStream(url, { onOpen, onMessage, onFail }) {
  if (typeof EventSource !== 'function') return void onFail();
  let source;
  try {
    source = new EventSource(url);
  } catch {
    return void onFail();
  }
  source.onopen = onOpen;
  source.onmessage = (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // comments or keep-alives that are not JSON
    }
    onMessage(message, event);
  };
  source.onerror = onFail;
  return source;
}
