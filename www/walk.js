// The latent walk: the grid's latents move along great circles to fresh seeded targets, one
// frame per animation frame, at a speed that slows with slow hardware instead of skipping.
const $ = (id) => document.getElementById(id);

/**
 * The walk over `app` (its walk state, seed, batch, generator and latents); `draw(latents)`
 * draws a frame, `showError` and `showRealness` are the page's.
 */
export function createWalk({ app, draw, showError, showRealness, maxSeed }) {
  function nextTarget(g = app.generator) {
    app.walk.leg += 1;
    const seed = (app.seed + 7919 * app.walk.leg) % maxSeed;
    return g.latents(seed, app.batch);
  }

  function startWalk() {
    const w = app.walk;
    if (w.running) return;
    showRealness(null);
    if (!w.from || w.from.length !== app.latents.length) {
      w.from = app.latents;
      w.to = nextTarget();
      w.t = 0;
    }
    w.running = true;
    w.last = w.startedAt = performance.now();
    w.framesAtStart = w.frames;
    $('walk').textContent = 'Pause';
    $('walk').setAttribute('aria-pressed', 'true');
    requestAnimationFrame(walkFrame);
  }

  function stopWalk() {
    app.walk.running = false;
    $('walk').textContent = 'Play';
    $('walk').setAttribute('aria-pressed', 'false');
  }

  async function walkFrame(now) {
    const w = app.walk;
    if (!w.running) return;
    // Slow hardware slows the walk instead of skipping through it.
    w.t += (Math.min(Math.max(now - w.last, 0), 250) / 1000) * w.speed;
    w.last = now;
    try {
      // Computed by the generator that draws (after a device loss, the recreated one).
      await draw((g) => {
        while (w.t >= 1) {
          w.from = w.to;
          w.to = nextTarget(g);
          w.t -= 1;
        }
        return g.slerp(w.from, w.to, w.t);
      });
      w.frames += 1;
      w.lastFrameAt = performance.now();
    } catch (e) {
      stopWalk();
      showError(e);
      return;
    }
    if (w.running) requestAnimationFrame(walkFrame);
  }

  return { nextTarget, startWalk, stopWalk };
}
