// The page's status line and progress: data-state (a contract scripts wait on), the progress
// bar with its download and phase texts, and hiding the error box.
const $ = (id) => document.getElementById(id);

export function setState(state) {
  document.body.dataset.state = state;
}

export function clearError() {
  $('error').hidden = true;
}

export function showProgress(loaded, total, fromCache) {
  $('progress').hidden = false;
  $('progress-bar').max = total || 1;
  $('progress-bar').value = loaded;
  const mb = (n) => (n / 1e6).toFixed(1);
  const pct = total ? Math.floor((100 * loaded) / total) : 0;
  $('progress-text').textContent = fromCache
    ? `weights from the browser cache: ${mb(loaded)} MB`
    : `downloading weights: ${mb(loaded)} / ${mb(total)} MB (${pct}%)`;
}

/** A step without a byte count (the bar turns indeterminate). */
export function showPhase(text) {
  $('progress').hidden = false;
  $('progress-bar').removeAttribute('value');
  $('progress-text').textContent = text;
}
