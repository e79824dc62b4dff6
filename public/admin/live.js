// Keeps a screen live: runs `tick` about every `intervalMs`, one run at a time, and not at all while the
// tab is hidden (an operator's background tab should not poll the service all night).

/** Starts polling now; returns `stop`. `tick` never throws here: each panel reports its own failures. */
export function poll(tick, intervalMs = 1000) {
  let timer = null;
  let running = false;
  let stopped = false;

  const run = async () => {
    timer = null;
    if (stopped || document.hidden || running) return;
    running = true;
    try {
      await tick();
    } catch (error) {
      console.error(error);
    } finally {
      running = false;
      if (!stopped && !document.hidden) timer = setTimeout(run, intervalMs);
    }
  };
  const onVisibility = () => {
    if (document.hidden) {
      clearTimeout(timer);
      timer = null;
    } else if (!timer && !running) run();
  };

  document.addEventListener('visibilitychange', onVisibility);
  run();
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
