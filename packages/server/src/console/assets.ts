/**
 * The console's only script and stylesheet, served from /console/assets/ so the page's
 * Content-Security-Policy allows no inline script or style. The script only copies expressions
 * to the clipboard; every other action is a plain form, so the console works by keyboard and
 * without JavaScript.
 */

export const APP_JS = `"use strict";
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  const status = document.getElementById("status");
  navigator.clipboard.writeText(button.getAttribute("data-copy")).then(
    () => { if (status) status.textContent = "Copied " + button.getAttribute("data-copy"); },
    () => { if (status) status.textContent = "Copy failed: the browser refused clipboard access."; },
  );
});
`;

export const STYLE_CSS = `
:root { color-scheme: light; font-family: system-ui, sans-serif; color: #1d1f2b; }
body { margin: 0; background: #f6f7fb; }
header { display: flex; align-items: center; justify-content: space-between; padding: .6rem 1.2rem; background: #2c0059; color: #fff; }
header a { color: #fff; font-weight: 600; text-decoration: none; }
header button { background: transparent; color: #fff; border: 1px solid #fff8; }
.layout { display: grid; grid-template-columns: 16rem 1fr; min-height: calc(100vh - 3rem); }
nav { background: #fff; border-right: 1px solid #dde; padding: 1rem; }
nav h2 { font-size: .8rem; text-transform: uppercase; color: #666; }
nav ul { list-style: none; padding: 0; margin: 0; }
nav li a { display: block; padding: .25rem .4rem; border-radius: 4px; color: #1d1f2b; text-decoration: none; }
nav li a[aria-current="page"] { background: #ece3fb; font-weight: 600; }
nav li a:focus-visible, a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #8405ff; outline-offset: 1px; }
main { padding: 1.2rem 2rem; max-width: 70rem; }
h1 { margin: 0 0 .3rem; font-size: 1.5rem; }
.served { color: #555; margin: 0 0 1rem; }
.lock { display: inline-block; background: #fff1d6; border: 1px solid #e0b050; border-radius: 4px; padding: .2rem .5rem; margin-left: .5rem; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #dde; }
th, td { text-align: left; padding: .5rem .7rem; border-bottom: 1px solid #eef; vertical-align: top; }
th { background: #f0f0f7; font-size: .85rem; }
code { font-family: ui-monospace, monospace; }
.badge { display: inline-block; background: #e6f0ff; color: #0b4aa2; border-radius: 999px; padding: 0 .5rem; font-size: .8rem; }
.tag { display: inline-block; background: #eee; border-radius: 4px; padding: 0 .35rem; margin: 0 .2rem .2rem 0; font-size: .8rem; }
.actions { display: flex; gap: .4rem; flex-wrap: wrap; }
button, .button { font: inherit; padding: .3rem .7rem; border-radius: 4px; border: 1px solid #8405ff; background: #fff; color: #2c0059; cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: #8405ff; color: #fff; }
button.danger { border-color: #b00020; color: #b00020; }
form.card, .card { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 1rem; margin-top: 1.2rem; max-width: 36rem; }
label { display: block; font-weight: 600; margin: .6rem 0 .2rem; }
.hint { font-weight: normal; color: #666; font-size: .85rem; }
input[type=text], input[type=password], textarea { width: 100%; box-sizing: border-box; font: inherit; padding: .4rem; border: 1px solid #bbc; border-radius: 4px; }
.notice { background: #e7f7ec; border: 1px solid #6c6; padding: .5rem .8rem; border-radius: 4px; }
.error { background: #fde8e8; border: 1px solid #d66; padding: .5rem .8rem; border-radius: 4px; }
#status { min-height: 1.2rem; color: #0b6b2b; }
.tenants a { margin-right: .6rem; }
.tenants a[aria-current="page"] { font-weight: 600; text-decoration: none; }
`;
