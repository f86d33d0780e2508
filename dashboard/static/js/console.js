// Stratus console page: noVNC (vendored ES modules) connected to Stratus' console proxy with a one-time token.
// Toolbar: state, Ctrl-Alt-Del, scale to fit, full screen, reconnect (fresh token), paste as keystrokes.
import RFB from "../vendor/novnc/core/rfb.js";
import KeyTable from "../vendor/novnc/core/input/keysym.js";
import keysyms from "../vendor/novnc/core/input/keysymdef.js";

const screen = document.getElementById("console-screen");
const stateEl = document.getElementById("console-state");
const messageEl = document.getElementById("console-message");
const section = document.getElementById("console");
const button = (name) => section.querySelector(`[data-console="${name}"]`);
const SCALE_KEY = "stratus-console-scale";

let rfb = null;
let connected = false;
let statusTimer = null;
const STATUS_EVERY_MS = 5000;

function setState(state, label) {
  stateEl.dataset.state = state;
  screen.dataset.state = state;
  stateEl.textContent = label;
  stateEl.className = "badge " + ({ connected: "ok", connecting: "transition", refused: "danger" }[state] || "warn");
  button("ctrl-alt-del").disabled = state !== "connected";
}

function showMessage(text) {
  messageEl.textContent = text || "";
  messageEl.hidden = !text;
}

function scaled() {
  return localStorage.getItem(SCALE_KEY) !== "off";
}

function connect(url) {
  if (rfb) {
    rfb.removeEventListener("disconnect", onDisconnect);
    rfb.disconnect();
  }
  connected = false;
  showMessage("");
  setState("connecting", screen.dataset.labelConnecting);
  try {
    rfb = new RFB(screen, url, { shared: true });
  } catch (err) {
    setState("refused", screen.dataset.labelRefused);
    showMessage(screen.dataset.msgRefused);
    return;
  }
  rfb.scaleViewport = scaled();
  rfb.resizeSession = false;
  rfb.focusOnClick = true;
  rfb.background = "#111";
  rfb.addEventListener("connect", () => {
    connected = true;
    setState("connected", screen.dataset.labelConnected);
    rfb.focus();
    watchStatus();
  });
  rfb.addEventListener("disconnect", onDisconnect);
  rfb.addEventListener("securityfailure", () => showMessage(screen.dataset.msgSecurity));
}

function onDisconnect() {
  if (connected) {
    setState("disconnected", screen.dataset.labelDisconnected);
    showMessage(screen.dataset.msgClosed);
    checkStatus(); // say why, when the instance stopped
  } else {
    setState("refused", screen.dataset.labelRefused);
    if (messageEl.hidden) showMessage(screen.dataset.msgRefused);
  }
  connected = false;
}

function showStatus(status, label) {
  const badge = document.getElementById("server-status");
  if (badge && status) {
    badge.textContent = label || status; // the translated label; Nova's own code stays in the title
    badge.title = status;
    badge.className = "badge " + status.toLowerCase();
  }
}

// While the console is open, ask every few seconds whether the instance still runs: a VNC server does not always
// hang up when its instance stops or pauses, and a frozen screen says nothing.
function watchStatus() {
  if (!statusTimer) statusTimer = setInterval(checkStatus, STATUS_EVERY_MS);
}

function stopWatching() {
  clearInterval(statusTimer);
  statusTimer = null;
}

async function checkStatus() {
  let data = null;
  try {
    const response = await fetch(screen.dataset.statusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    data = await response.json();
  } catch (err) {
    return;
  }
  showStatus(data.status, data.status_label);
  if (data.running === false) {
    stopWatching();
    if (rfb) {
      rfb.removeEventListener("disconnect", onDisconnect);
      rfb.disconnect();
      rfb = null;
    }
    connected = false;
    setState("disconnected", screen.dataset.labelDisconnected);
    showMessage(data.message);
  }
}

async function reconnect() {
  setState("connecting", screen.dataset.labelConnecting);
  showMessage("");
  let data = {};
  let ok = false;
  try {
    const response = await fetch(screen.dataset.tokenUrl, {
      method: "POST",
      headers: { "X-CSRFToken": screen.dataset.csrf, Accept: "application/json" },
      credentials: "same-origin",
    });
    ok = response.ok;
    data = await response.json().catch(() => ({}));
  } catch (err) {
    ok = false;
  }
  showStatus(data.status, data.status_label);
  if (ok && data.url) {
    connect(data.url);
  } else if (data.nova_url) {
    window.location.reload();
  } else {
    setState("refused", screen.dataset.labelRefused);
    showMessage(data.error || screen.dataset.msgRefused);
  }
}

function typeText(text) {
  if (!rfb || !connected || !text) return;
  rfb.clipboardPasteFrom(text);
  for (const ch of text.replace(/\r\n?/g, "\n")) {
    const keysym = ch === "\n" ? KeyTable.XK_Return : ch === "\t" ? KeyTable.XK_Tab : keysyms.lookup(ch.codePointAt(0));
    rfb.sendKey(keysym, null, true);
    rfb.sendKey(keysym, null, false);
  }
  rfb.focus();
}

section.addEventListener("click", (ev) => {
  const control = ev.target.closest("[data-console]");
  if (!control) return;
  const action = control.dataset.console;
  if (action === "reconnect") {
    ev.preventDefault();
    reconnect();
  } else if (action === "ctrl-alt-del" && rfb && connected) {
    rfb.sendCtrlAltDel();
    rfb.focus();
  } else if (action === "scale") {
    const on = !scaled();
    localStorage.setItem(SCALE_KEY, on ? "on" : "off");
    control.setAttribute("aria-pressed", on ? "true" : "false");
    if (rfb) rfb.scaleViewport = on;
  } else if (action === "fullscreen") {
    if (document.fullscreenElement) document.exitFullscreen();
    else section.requestFullscreen().catch(() => {});
  } else if (action === "paste") {
    const area = document.getElementById("console-paste-text");
    typeText(area.value);
    if (connected && area.value) showMessage("");
  }
});

// Coming back through the history cache: the token in the page is spent, so ask for a new one.
window.addEventListener("pageshow", (ev) => {
  if (ev.persisted) reconnect();
});
window.addEventListener("pagehide", () => {
  stopWatching();
  if (rfb) rfb.disconnect();
});

button("scale").setAttribute("aria-pressed", scaled() ? "true" : "false");
connect(screen.dataset.url);
