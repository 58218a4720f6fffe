// SPDX-License-Identifier: Apache-2.0
// The web chat door of Hub: one page, one WebSocket, no dependencies.
// Message text only ever reaches the DOM through textContent / text nodes.
"use strict";

(() => {
  const CLIENT_KEY = "hub.client_id";
  const TOKEN_KEY = "hub.web_token";
  const BACKOFF_BASE_MS = 1000;
  const BACKOFF_CAP_MS = 15000;
  const STABLE_AFTER_MS = 5000;
  const NEAR_BOTTOM_PX = 120;

  const $ = (id) => document.getElementById(id);
  const ui = {
    state: $("connection-state"),
    picker: $("model-picker"),
    newConversation: $("new-conversation"),
    banner: $("banner"),
    bannerText: $("banner-text"),
    bannerClose: $("banner-close"),
    tokenForm: $("token-form"),
    tokenHint: $("token-hint"),
    tokenInput: $("token-input"),
    scroller: $("scroller"),
    empty: $("empty-state"),
    messages: $("messages"),
    composer: $("composer"),
    input: $("input"),
    send: $("send"),
  };

  // ---------------------------------------------------------------- storage & ids

  function storageGet(key) {
    try {
      return window.localStorage.getItem(key);
    } catch (_) {
      return null;
    }
  }

  function storageSet(key, value) {
    try {
      if (value === null || value === "") window.localStorage.removeItem(key);
      else window.localStorage.setItem(key, value);
    } catch (_) {
      // Storage can be unavailable (privacy modes); the page still works for this visit.
    }
  }

  function randomHex(bytes) {
    const buf = new Uint8Array(bytes);
    crypto.getRandomValues(buf);
    let out = "";
    for (const b of buf) out += b.toString(16).padStart(2, "0");
    return out;
  }

  // The hub accepts 1 to 64 letters, digits, '-' or '_'; anything else is replaced.
  let clientId = storageGet(CLIENT_KEY);
  if (!clientId || !/^[A-Za-z0-9_-]{1,64}$/.test(clientId)) {
    clientId = randomHex(16);
    storageSet(CLIENT_KEY, clientId);
  }

  let idCounter = 0;
  function nextMessageId() {
    idCounter += 1;
    return "w" + idCounter.toString(36) + "-" + randomHex(6);
  }

  const getToken = () => storageGet(TOKEN_KEY) || "";

  Object.defineProperty(window, "hubChat", {
    value: Object.freeze({ clientId }),
    writable: false,
    enumerable: false,
    configurable: false,
  });

  // ---------------------------------------------------------------- small DOM helpers

  function h(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = text;
    return el;
  }

  // Whether the view follows new text: true while the reader is at (or near) the bottom.
  let pinned = true;

  function isNearBottom() {
    const s = ui.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  function scrollToBottom() {
    ui.scroller.scrollTop = ui.scroller.scrollHeight;
    pinned = true;
  }

  ui.scroller.addEventListener("scroll", () => {
    pinned = isNearBottom();
  }, { passive: true });
  // A smaller viewport (a phone's keyboard, a resized window) keeps the bottom in view.
  if (typeof ResizeObserver === "function") {
    new ResizeObserver(() => {
      if (pinned) ui.scroller.scrollTop = ui.scroller.scrollHeight;
    }).observe(ui.scroller);
  }

  // Runs a DOM change and keeps the view pinned to the bottom if it was there before.
  function keepingScroll(change, force) {
    const follow = force || isNearBottom();
    change();
    updateEmptyState();
    if (follow) scrollToBottom();
  }

  function updateEmptyState() {
    ui.empty.hidden = ui.messages.childElementCount > 0;
  }

  function formatTime(iso) {
    if (typeof iso !== "string" || !iso) return "";
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? "" : d.toLocaleString();
  }

  // ---------------------------------------------------------------- rendering of assistant text

  const URL_OR_LINK = /\[([^\]\n]{1,500})\]\((https?:\/\/[^\s()<>]+(?:\([^\s()<>]*\)[^\s()<>]*)*)\)|\bhttps?:\/\/[^\s<>"'`]+/gi;

  function safeHref(url) {
    return /^https?:\/\//i.test(url) ? url : null;
  }

  function appendLink(parent, url, label) {
    const href = safeHref(url);
    if (!href) {
      parent.appendChild(document.createTextNode(label));
      return;
    }
    const a = h("a", null, label);
    a.setAttribute("href", href);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
    parent.appendChild(a);
  }

  // Bare URLs lose trailing punctuation, and a closing parenthesis that has no partner inside.
  function trimUrl(url) {
    let end = url.length;
    for (;;) {
      const c = url[end - 1];
      if (".,;:!?'\"*_]}".includes(c)) {
        end -= 1;
        continue;
      }
      if (c === ")") {
        const body = url.slice(0, end);
        const opens = body.split("(").length - 1;
        const closes = body.split(")").length - 1;
        if (closes > opens) {
          end -= 1;
          continue;
        }
      }
      break;
    }
    return url.slice(0, end);
  }

  function appendLinkified(parent, text) {
    let last = 0;
    URL_OR_LINK.lastIndex = 0;
    let m;
    while ((m = URL_OR_LINK.exec(text)) !== null) {
      if (m[1] !== undefined) {
        if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
        appendLink(parent, m[2], m[1]);
        last = m.index + m[0].length;
      } else {
        const url = trimUrl(m[0]);
        if (url.length <= "https://".length) continue;
        if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
        appendLink(parent, url, url);
        last = m.index + url.length;
        URL_OR_LINK.lastIndex = last;
      }
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  const BOLD = /\*\*(?=\S)([\s\S]*?\S)\*\*/g;

  function appendEmphasis(parent, text) {
    let last = 0;
    BOLD.lastIndex = 0;
    let m;
    while ((m = BOLD.exec(text)) !== null) {
      if (m.index > last) appendLinkified(parent, text.slice(last, m.index));
      const strong = h("strong");
      appendLinkified(strong, m[1]);
      parent.appendChild(strong);
      last = m.index + m[0].length;
    }
    if (last < text.length) appendLinkified(parent, text.slice(last));
  }

  function backtickRun(text, at) {
    let n = 0;
    while (text[at + n] === "`") n += 1;
    return n;
  }

  // Index of the next run of exactly `n` backticks at or after `from`, or -1.
  function findBacktickRun(text, from, n) {
    let i = text.indexOf("`", from);
    while (i !== -1) {
      const run = backtickRun(text, i);
      if (run === n) return i;
      i = text.indexOf("`", i + run);
    }
    return -1;
  }

  function appendInline(parent, text) {
    let plain = "";
    let i = 0;
    while (i < text.length) {
      if (text[i] === "`") {
        const n = backtickRun(text, i);
        const close = findBacktickRun(text, i + n, n);
        if (close !== -1) {
          if (plain) appendEmphasis(parent, plain);
          plain = "";
          let code = text.slice(i + n, close).replace(/\n/g, " ");
          if (code.length > 2 && code[0] === " " && code[code.length - 1] === " " && code.trim()) {
            code = code.slice(1, -1);
          }
          parent.appendChild(h("code", "inline-code", code));
          i = close + n;
          continue;
        }
        plain += text.slice(i, i + n);
        i += n;
        continue;
      }
      plain += text[i];
      i += 1;
    }
    if (plain) appendEmphasis(parent, plain);
  }

  function appendInlineLines(parent, lines) {
    lines.forEach((line, index) => {
      if (index > 0) parent.appendChild(h("br"));
      appendInline(parent, line);
    });
  }

  function copyText(button, text) {
    const done = (label) => {
      button.textContent = label;
      window.setTimeout(() => {
        button.textContent = "Copy";
      }, 1500);
    };
    if (navigator.clipboard && typeof navigator.clipboard.writeText === "function") {
      navigator.clipboard.writeText(text).then(
        () => done("Copied"),
        () => done("Copy failed"),
      );
      return;
    }
    // Plain-http origins have no async clipboard: select the code so Ctrl+C / long-press works.
    const pre = button.closest(".code-block")?.querySelector("code");
    if (pre) {
      const range = document.createRange();
      range.selectNodeContents(pre);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    done("Selected");
  }

  function codeBlock(code, lang, open) {
    const wrap = h("div", open ? "code-block open" : "code-block");
    const head = h("div", "code-head");
    head.appendChild(h("span", "code-lang", lang || "code"));
    const copy = h("button", "copy", "Copy");
    copy.type = "button";
    copy.setAttribute("aria-label", lang ? "Copy " + lang + " code" : "Copy code");
    copy.addEventListener("click", () => copyText(copy, code));
    head.appendChild(copy);
    const pre = h("pre");
    const codeEl = h("code", null, code);
    if (lang) codeEl.setAttribute("data-lang", lang);
    pre.appendChild(codeEl);
    wrap.append(head, pre);
    return wrap;
  }

  const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[ \t]*([^\s`]*)[^`]*$/;
  const RULE = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
  const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
  const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])[ \t]+(.*)$/;

  function isClosingFence(line, marker) {
    const m = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
    return !!m && m[1][0] === marker[0] && m[1].length >= marker.length;
  }

  // A small, safe subset of Markdown: fences, headings, lists, rules, paragraphs with
  // line breaks, inline code, **bold** and http(s) links. An unterminated fence renders
  // as an open code block (the normal state while an answer streams in).
  function renderMarkdown(text) {
    const frag = document.createDocumentFragment();
    const lines = text.replace(/\r\n?/g, "\n").split("\n");
    let para = [];
    let list = null;

    const flushPara = () => {
      if (para.length === 0) return;
      const p = h("p");
      appendInlineLines(p, para);
      frag.appendChild(p);
      para = [];
    };

    let i = 0;
    while (i < lines.length) {
      const line = lines[i];

      const fence = FENCE_OPEN.exec(line);
      if (fence) {
        flushPara();
        list = null;
        const body = [];
        let closed = false;
        i += 1;
        while (i < lines.length) {
          if (isClosingFence(lines[i], fence[1])) {
            closed = true;
            i += 1;
            break;
          }
          body.push(lines[i]);
          i += 1;
        }
        frag.appendChild(codeBlock(body.join("\n"), fence[2] || "", !closed));
        continue;
      }

      if (line.trim() === "") {
        flushPara();
        list = null;
        i += 1;
        continue;
      }

      if (RULE.test(line)) {
        flushPara();
        list = null;
        frag.appendChild(h("hr"));
        i += 1;
        continue;
      }

      const heading = HEADING.exec(line);
      if (heading) {
        flushPara();
        list = null;
        const level = Math.min(6, heading[1].length + 2);
        const el = h("h" + level, "md-heading");
        appendInline(el, heading[2]);
        frag.appendChild(el);
        i += 1;
        continue;
      }

      const item = LIST_ITEM.exec(line);
      if (item) {
        flushPara();
        const ordered = /^\d/.test(item[1]);
        if (!list || list.ordered !== ordered) {
          list = { ordered, el: h(ordered ? "ol" : "ul") };
          if (ordered) {
            const start = parseInt(item[1], 10);
            if (start !== 1 && Number.isFinite(start)) list.el.setAttribute("start", String(start));
          }
          frag.appendChild(list.el);
        }
        const li = h("li");
        appendInline(li, item[2]);
        list.el.appendChild(li);
        i += 1;
        continue;
      }

      if (list && /^[ \t]{2,}\S/.test(line) && list.el.lastElementChild) {
        const li = list.el.lastElementChild;
        li.appendChild(h("br"));
        appendInline(li, line.trim());
        i += 1;
        continue;
      }

      list = null;
      para.push(line);
      i += 1;
    }
    flushPara();
    return frag;
  }

  // ---------------------------------------------------------------- conversation view

  // Every message id the page knows about: chat turns (user bubble + answer) and the
  // page's own commands (/reset, /model …) whose answers become system notes.
  const turns = new Map();
  // Ids whose late frames must be dropped (their view was cleared).
  const discarded = new Set();
  const dirty = new Set();
  let frameRequested = false;

  function clearConversation() {
    for (const [id, turn] of turns) if (!turn.finished) discarded.add(id);
    turns.clear();
    dirty.clear();
    ui.messages.replaceChildren();
    updateEmptyState();
  }

  function appendUser(text, id, createdAt) {
    const el = h("div", "message user");
    if (id) el.dataset.id = id;
    const bubble = h("div", "bubble", text);
    const when = formatTime(createdAt);
    if (when) bubble.title = when;
    el.appendChild(bubble);
    ui.messages.appendChild(el);
    return el;
  }

  function createAssistant(id, pending) {
    const el = h("div", "message assistant");
    if (id) el.dataset.id = id;
    const bubble = h("div", "bubble");
    const content = h("div", "content");
    bubble.appendChild(content);
    el.appendChild(bubble);
    if (pending) {
      el.classList.add("streaming", "pending");
      el.setAttribute("aria-busy", "true");
      const typing = h("span", "typing");
      typing.setAttribute("role", "img");
      typing.setAttribute("aria-label", "Hub is typing");
      typing.append(h("span"), h("span"), h("span"));
      content.appendChild(typing);
    }
    ui.messages.appendChild(el);
    return el;
  }

  function appendSystemNote(text, id) {
    const el = h("div", "message system");
    if (id) el.dataset.id = id;
    el.appendChild(h("div", "note", text));
    ui.messages.appendChild(el);
    return el;
  }

  function appendErrorNote(text, id, after) {
    const el = h("div", "message error");
    if (id) el.dataset.id = id;
    el.setAttribute("role", "alert");
    el.appendChild(h("div", "note", text));
    if (after && after.parentNode === ui.messages) after.after(el);
    else ui.messages.appendChild(el);
    return el;
  }

  function turnFor(id) {
    let turn = turns.get(id);
    if (!turn) {
      turn = { id, kind: "chat", text: "", finished: false, userEl: null, replyEl: null };
      turns.set(id, turn);
    }
    return turn;
  }

  function ensureReply(turn) {
    if (turn.replyEl && turn.replyEl.isConnected) return turn.replyEl;
    if (turn.kind === "command") {
      turn.replyEl = appendSystemNote("", turn.id);
    } else {
      turn.replyEl = createAssistant(turn.id, false);
      turn.replyEl.classList.add("streaming");
      turn.replyEl.setAttribute("aria-busy", "true");
    }
    return turn.replyEl;
  }

  function renderTurn(turn) {
    const el = turn.replyEl;
    if (!el) return;
    if (turn.kind === "command") {
      el.querySelector(".note").textContent = turn.text;
      return;
    }
    if (turn.text !== "") el.classList.remove("pending");
    if (el.classList.contains("pending")) return;
    el.querySelector(".content").replaceChildren(renderMarkdown(turn.text));
  }

  function scheduleRender(turn) {
    dirty.add(turn);
    if (frameRequested) return;
    frameRequested = true;
    window.requestAnimationFrame(() => {
      frameRequested = false;
      const pending = Array.from(dirty);
      dirty.clear();
      keepingScroll(() => pending.forEach(renderTurn));
    });
  }

  function renderNow(turn) {
    dirty.delete(turn);
    renderTurn(turn);
  }

  function commandFallback(turn) {
    if (turn.command === "reset") return "Conversation cleared.";
    if (turn.command === "model") return "Model set to " + turn.model + ".";
    return "Done.";
  }

  function finishStreaming(el) {
    el.classList.remove("streaming", "pending");
    el.removeAttribute("aria-busy");
    const typing = el.querySelector(".typing");
    if (typing) typing.remove();
  }

  // A connection drop ends every answer still in flight; the history sent on the next
  // connect replaces the view anyway.
  function interruptInFlight() {
    keepingScroll(() => {
      for (const turn of turns.values()) {
        if (turn.finished) continue;
        turn.finished = true;
        discarded.add(turn.id);
        if (turn.kind !== "chat") continue;
        const el = turn.replyEl;
        if (el && turn.text === "") {
          el.remove();
          turn.replyEl = null;
        } else if (el) {
          renderNow(turn);
          finishStreaming(el);
          el.dataset.error = "true";
        }
        appendErrorNote("Connection lost before the answer was complete.", turn.id, turn.replyEl || turn.userEl);
      }
    });
  }

  // ---------------------------------------------------------------- server frames

  function onHistory(frame) {
    keepingScroll(() => {
      clearConversation();
      const messages = Array.isArray(frame.messages) ? frame.messages : [];
      for (const m of messages) {
        if (!m || typeof m.content !== "string") continue;
        if (m.role === "user") {
          appendUser(m.content, null, m.created_at);
        } else if (m.role === "assistant") {
          const el = createAssistant(null, false);
          el.querySelector(".content").appendChild(renderMarkdown(m.content));
          el.dataset.done = "true";
          const when = formatTime(m.created_at);
          if (when) el.title = when;
        } else if (m.role === "system") {
          appendSystemNote(m.content, null);
        }
      }
    }, true);
    if (Array.isArray(frame.models) && frame.models.length > 0) {
      setModels(frame.models.filter((x) => typeof x === "string" && x !== ""), null);
    }
    selectModel(typeof frame.model === "string" && frame.model ? frame.model : null);
    ui.messages.dataset.history = "loaded";
  }

  function onDelta(frame) {
    if (typeof frame.id !== "string" || typeof frame.text !== "string") {
      console.warn("hub: malformed delta frame", frame);
      return;
    }
    if (discarded.has(frame.id)) return;
    const turn = turnFor(frame.id);
    if (turn.finished) return;
    turn.text += frame.text;
    keepingScroll(() => ensureReply(turn));
    scheduleRender(turn);
  }

  function describeUsage(usage) {
    if (!usage || typeof usage !== "object") return null;
    const total = Number(usage.total_tokens);
    const prompt = Number(usage.prompt_tokens);
    const completion = Number(usage.completion_tokens);
    if (Number.isFinite(total) && total > 0) {
      const parts = [];
      if (Number.isFinite(prompt)) parts.push(prompt + " in");
      if (Number.isFinite(completion)) parts.push(completion + " out");
      return total + " tokens" + (parts.length ? " (" + parts.join(", ") + ")" : "");
    }
    return null;
  }

  function onDone(frame) {
    if (typeof frame.id !== "string") {
      console.warn("hub: malformed done frame", frame);
      return;
    }
    if (discarded.has(frame.id)) return;
    const turn = turnFor(frame.id);
    if (turn.finished) return;
    turn.finished = true;
    keepingScroll(() => {
      const el = ensureReply(turn);
      if (turn.kind === "command") {
        if (turn.text.trim() === "") turn.text = commandFallback(turn);
        renderNow(turn);
        el.dataset.done = "true";
        return;
      }
      renderNow(turn);
      finishStreaming(el);
      if (turn.text === "") el.classList.add("empty");
      el.dataset.done = "true";
      const meta = [];
      if (typeof frame.model === "string" && frame.model) meta.push(frame.model);
      const usage = describeUsage(frame.usage);
      if (usage) meta.push(usage);
      if (meta.length > 0) {
        let metaEl = el.querySelector(".meta");
        if (!metaEl) {
          metaEl = h("div", "meta");
          el.appendChild(metaEl);
        }
        metaEl.textContent = meta.join(" · ");
      }
    });
  }

  function onError(frame) {
    const message = typeof frame.message === "string" && frame.message ? frame.message : "Something went wrong.";
    if (typeof frame.id !== "string" || frame.id === "") {
      showBanner(message);
      return;
    }
    if (discarded.has(frame.id)) return;
    const turn = turns.get(frame.id);
    keepingScroll(() => {
      let anchor = null;
      if (turn) {
        turn.finished = true;
        const el = turn.replyEl;
        if (el && turn.kind === "chat") {
          if (turn.text === "") {
            // Only a typing placeholder: the error note takes its place.
            el.remove();
            turn.replyEl = null;
          } else {
            renderNow(turn);
            finishStreaming(el);
            el.dataset.error = "true";
          }
        }
        if (turn.kind === "command" && turn.command === "model") {
          selectModel(turn.previousModel || null);
          currentModel = ui.picker.value;
        }
        anchor = turn.replyEl || turn.userEl;
        // Put the note after any earlier note of the same turn.
        while (anchor && anchor.nextElementSibling && anchor.nextElementSibling.dataset.id === frame.id) {
          anchor = anchor.nextElementSibling;
        }
      }
      appendErrorNote(message, frame.id, anchor);
    });
  }

  function handleFrame(data) {
    if (typeof data !== "string") {
      console.warn("hub: ignoring a binary frame");
      return;
    }
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (_) {
      console.warn("hub: ignoring a frame that is not JSON", data.slice(0, 200));
      return;
    }
    if (!frame || typeof frame !== "object") {
      console.warn("hub: ignoring a frame that is not an object", frame);
      return;
    }
    switch (frame.type) {
      case "history":
        onHistory(frame);
        break;
      case "delta":
        onDelta(frame);
        break;
      case "done":
        onDone(frame);
        break;
      case "error":
        onError(frame);
        break;
      default:
        console.warn("hub: ignoring a frame of unknown type", frame.type);
    }
  }

  // ---------------------------------------------------------------- banner & token form

  function showBanner(text) {
    ui.bannerText.textContent = text;
    ui.banner.hidden = false;
  }

  function hideBanner() {
    ui.banner.hidden = true;
    ui.bannerText.textContent = "";
  }

  function showTokenForm(status) {
    const hadToken = getToken() !== "";
    ui.tokenHint.textContent =
      hadToken || status === 403
        ? "The saved access token was not accepted. Enter the current one to connect."
        : "This hub needs an access token for the web chat. Ask its operator for one; it is kept in this browser only.";
    ui.tokenForm.hidden = false;
    ui.tokenInput.value = "";
    ui.tokenInput.focus();
  }

  // ---------------------------------------------------------------- models

  let defaultModel = null;
  let currentModel = null;

  function setModels(ids, fallbackDefault) {
    if (fallbackDefault) defaultModel = fallbackDefault;
    const keep = ui.picker.value;
    const unique = Array.from(new Set(ids));
    ui.picker.replaceChildren();
    if (unique.length === 0) {
      const none = h("option", null, "No models");
      none.value = "";
      ui.picker.appendChild(none);
    }
    for (const id of unique) {
      const option = h("option", null, id);
      option.value = id;
      ui.picker.appendChild(option);
    }
    if (keep && unique.includes(keep)) ui.picker.value = keep;
    else if (defaultModel && unique.includes(defaultModel)) ui.picker.value = defaultModel;
    currentModel = ui.picker.value || null;
    updateControls();
  }

  function selectModel(name) {
    const wanted = name || defaultModel;
    if (!wanted) return;
    const exists = Array.from(ui.picker.options).some((o) => o.value === wanted);
    if (!exists) {
      const placeholder = Array.from(ui.picker.options).find((o) => o.value === "");
      if (placeholder) placeholder.remove();
      const option = h("option", null, wanted);
      option.value = wanted;
      ui.picker.appendChild(option);
    }
    ui.picker.value = wanted;
    currentModel = wanted;
    updateControls();
  }

  async function loadModels(token) {
    let response;
    try {
      response = await fetch("api/v1/chat/models", {
        headers: token ? { Authorization: "Bearer " + token } : {},
        cache: "no-store",
      });
    } catch (_) {
      return { kind: "unreachable" };
    }
    if (response.status === 401 || response.status === 403) return { kind: "auth", status: response.status };
    if (!response.ok) return { kind: "unreachable" };
    let body;
    try {
      body = await response.json();
    } catch (_) {
      return { kind: "unreachable" };
    }
    const data = body && Array.isArray(body.data) ? body.data : [];
    const ids = data.map((m) => (m && typeof m.id === "string" ? m.id : null)).filter(Boolean);
    setModels(ids, body && typeof body.default === "string" && body.default ? body.default : null);
    return { kind: "ok" };
  }

  // ---------------------------------------------------------------- connection

  const conn = {
    ws: null,
    attempt: 0,
    everConnected: false,
    openedAt: 0,
    busy: false,
    timer: 0,
    ticker: 0,
    retryAt: 0,
    failure: "socket",
    generation: 0,
  };

  function setState(state, text) {
    if (ui.state.dataset.state !== state) ui.state.dataset.state = state;
    if (ui.state.textContent !== text) ui.state.textContent = text;
  }

  const isConnected = () => !!conn.ws && conn.ws.readyState === WebSocket.OPEN && ui.state.dataset.state === "connected";

  function updateControls() {
    const connected = isConnected();
    ui.send.disabled = !connected;
    ui.newConversation.disabled = !connected;
    ui.picker.disabled = !connected || !Array.from(ui.picker.options).some((o) => o.value !== "");
  }

  function clearRetry() {
    if (conn.timer) window.clearTimeout(conn.timer);
    if (conn.ticker) window.clearInterval(conn.ticker);
    conn.timer = 0;
    conn.ticker = 0;
  }

  function showCountdown() {
    const seconds = Math.max(1, Math.ceil((conn.retryAt - Date.now()) / 1000));
    if (conn.failure === "unreachable") setState("offline", "Offline — retrying in " + seconds + " s…");
    else setState("reconnecting", "Reconnecting in " + seconds + " s…");
  }

  function scheduleReconnect(failure) {
    clearRetry();
    conn.failure = failure;
    const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** conn.attempt);
    const delay = Math.min(BACKOFF_CAP_MS, Math.round(base * (0.8 + Math.random() * 0.4)));
    conn.attempt = Math.min(conn.attempt + 1, 16);
    conn.retryAt = Date.now() + delay;
    conn.timer = window.setTimeout(connect, delay);
    conn.ticker = window.setInterval(showCountdown, 250);
    showCountdown();
    updateControls();
  }

  function socketUrl(token) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const prefix = location.pathname.slice(0, location.pathname.lastIndexOf("/") + 1) || "/";
    let url = scheme + "//" + location.host + prefix + "ws/chat/" + encodeURIComponent(clientId);
    if (token) url += "?access_token=" + encodeURIComponent(token);
    return url;
  }

  async function connect() {
    clearRetry();
    if (conn.busy || conn.ws) return;
    conn.busy = true;
    const generation = ++conn.generation;
    setState(conn.everConnected ? "reconnecting" : "connecting", conn.everConnected ? "Reconnecting…" : "Connecting…");
    updateControls();
    const token = getToken();
    const models = await loadModels(token);
    conn.busy = false;
    if (generation !== conn.generation) return;
    if (models.kind === "auth") {
      setState("offline", "Access token needed");
      showTokenForm(models.status);
      updateControls();
      return;
    }
    if (models.kind !== "ok") {
      scheduleReconnect("unreachable");
      return;
    }
    ui.tokenForm.hidden = true;
    openSocket(token);
  }

  function openSocket(token) {
    let ws;
    try {
      ws = new WebSocket(socketUrl(token));
    } catch (err) {
      console.warn("hub: cannot open the WebSocket", err);
      scheduleReconnect("socket");
      return;
    }
    conn.ws = ws;
    ws.addEventListener("open", () => {
      if (conn.ws !== ws) return;
      conn.openedAt = Date.now();
      conn.everConnected = true;
      ui.messages.dataset.history = "pending";
      setState("connected", "Connected");
      updateControls();
    });
    ws.addEventListener("message", (event) => {
      if (conn.ws === ws) handleFrame(event.data);
    });
    ws.addEventListener("close", () => {
      if (conn.ws !== ws) return;
      conn.ws = null;
      if (conn.openedAt && Date.now() - conn.openedAt >= STABLE_AFTER_MS) conn.attempt = 0;
      conn.openedAt = 0;
      interruptInFlight();
      scheduleReconnect("socket");
    });
  }

  function reconnectNow() {
    if (conn.ws || conn.busy || !ui.tokenForm.hidden) return;
    connect();
  }

  // ---------------------------------------------------------------- sending

  function sendFrame(frame) {
    if (!isConnected()) return false;
    try {
      conn.ws.send(JSON.stringify(frame));
      return true;
    } catch (err) {
      console.warn("hub: send failed", err);
      return false;
    }
  }

  function sendChat() {
    const text = ui.input.value.trim();
    if (!text || !isConnected()) return;
    const id = nextMessageId();
    if (!sendFrame({ type: "message", id, text })) return;
    ui.input.value = "";
    autoGrow();
    const turn = turnFor(id);
    keepingScroll(() => {
      turn.userEl = appendUser(text, id, null);
      turn.replyEl = createAssistant(id, true);
    }, true);
  }

  function sendCommand(text, fields) {
    const id = nextMessageId();
    if (!sendFrame({ type: "message", id, text })) return false;
    turns.set(id, Object.assign({ id, kind: "command", text: "", finished: false, userEl: null, replyEl: null }, fields));
    return true;
  }

  function autoGrow() {
    const input = ui.input;
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 200) + "px";
  }

  // ---------------------------------------------------------------- wiring

  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendChat();
  });

  ui.input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    sendChat();
  });

  ui.input.addEventListener("input", autoGrow);

  ui.newConversation.addEventListener("click", () => {
    if (!isConnected()) return;
    hideBanner();
    clearConversation();
    sendCommand("/reset", { command: "reset" });
    ui.input.focus();
  });

  ui.picker.addEventListener("change", () => {
    const name = ui.picker.value;
    const previous = currentModel;
    if (!name || name === previous) return;
    if (!isConnected() || !sendCommand("/model " + name, { command: "model", model: name, previousModel: previous })) {
      if (previous) ui.picker.value = previous;
      return;
    }
    currentModel = name;
  });

  ui.bannerClose.addEventListener("click", hideBanner);

  ui.tokenForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (!token) {
      ui.tokenInput.focus();
      return;
    }
    storageSet(TOKEN_KEY, token);
    ui.tokenInput.value = "";
    ui.tokenForm.hidden = true;
    conn.attempt = 0;
    connect();
  });

  window.addEventListener("online", () => {
    conn.attempt = 0;
    reconnectNow();
  });

  updateEmptyState();
  updateControls();
  connect();
})();
