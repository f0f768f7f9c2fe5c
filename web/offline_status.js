/* The footer's offline line: whether the page is kept for offline use yet, and an install button.
 *
 * The service worker (web/sw.js) precaches the whole site in its install step
 * and only then activates, so navigator.serviceWorker.ready resolving means
 * the page now works without a network. Where the browser offers installing
 * the site as an app (beforeinstallprompt, Chromium), the footer shows an
 * "Install the app" button that opens the browser's own prompt.
 */

const status = document.getElementById("offline-status");
const install = document.getElementById("install");

function say(text) { if (status) status.textContent = text; }

if (!("serviceWorker" in navigator) || location.protocol === "file:") {
  say("This browser cannot keep it for offline use here.");
} else {
  if (!navigator.serviceWorker.controller) say("Saving it for offline use…");
  navigator.serviceWorker.ready.then(() => {
    say("Ready for offline use: it now works without a network.");
    document.documentElement.classList.add("offline-ready");
  });
}

let offer = null;  // the browser's deferred install prompt
addEventListener("beforeinstallprompt", (e) => {
  e.preventDefault();  // no mini-infobar: the button below asks when the person wants it
  offer = e;
  if (install) install.hidden = false;
});
install?.addEventListener("click", async () => {
  if (!offer) return;
  const prompt = offer;
  offer = null;
  install.hidden = true;
  await prompt.prompt();
  const choice = await prompt.userChoice;
  if (choice?.outcome === "accepted") say("Installed: open it from your apps, with or without a network.");
});
addEventListener("appinstalled", () => { if (install) install.hidden = true; });
