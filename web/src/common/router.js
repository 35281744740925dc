// Moves to a screen (a "#/..." hash); the same hash again re-renders it.
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}

// The screen and its argument from the hash "#/screen/arg"; `fallback` when empty.
export function route(fallback) {
  const [screen, arg] = location.hash.replace(/^#\/?/, '').split('/');
  return { screen: screen || fallback, arg: arg ? decodeURIComponent(arg) : '' };
}
