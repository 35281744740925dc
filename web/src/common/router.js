// Moves to a screen (a "#/..." hash); the same hash again re-renders it.
export function go(hash) {
  if (location.hash === hash) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = hash;
}
