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
    mic: $("mic"),
    speaker: $("speaker"),
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
        // `![alt](url)` is image syntax, not a link: it stays text (its URL is still linked below).
        if (m.index > 0 && text[m.index - 1] === "!") {
          URL_OR_LINK.lastIndex = m.index + 1;
          continue;
        }
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

  // The hub's own pictures (a /draw result): only /media/<32 hex>.<png|jpg|webp> on this origin is
  // ever shown as an image; any other image syntax stays text.
  const HUB_PICTURE = /!\[([^\]\n]{0,200})\]\((\/media\/[0-9a-f]{32}\.(?:png|jpg|webp))\)/g;

  function appendPictures(parent, text) {
    let last = 0;
    HUB_PICTURE.lastIndex = 0;
    let m;
    while ((m = HUB_PICTURE.exec(text)) !== null) {
      if (m.index > last) appendEmphasis(parent, text.slice(last, m.index));
      const link = h("a", "picture-link");
      link.setAttribute("href", m[2]);
      link.setAttribute("target", "_blank");
      link.setAttribute("rel", "noopener");
      const img = h("img", "picture");
      img.setAttribute("src", m[2]);
      img.setAttribute("alt", m[1] || "picture");
      img.setAttribute("loading", "lazy");
      img.addEventListener("error", () => {
        link.replaceWith(h("span", "picture-gone", "(picture no longer kept)"));
      });
      link.appendChild(img);
      parent.appendChild(link);
      last = m.index + m[0].length;
    }
    if (last < text.length) appendEmphasis(parent, text.slice(last));
  }

  function appendInline(parent, text) {
    let plain = "";
    let i = 0;
    while (i < text.length) {
      if (text[i] === "`") {
        const n = backtickRun(text, i);
        const close = findBacktickRun(text, i + n, n);
        if (close !== -1) {
          if (plain) appendPictures(parent, plain);
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
    if (plain) appendPictures(parent, plain);
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
      if (turn.text.trim() !== "") readAloud(turn.text);
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
    updateVoiceControls(connected);
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

  // ws(s)://host/prefix/ for the page's own sockets (the page may live below a path prefix).
  function socketBase() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const prefix = location.pathname.slice(0, location.pathname.lastIndexOf("/") + 1) || "/";
    return scheme + "//" + location.host + prefix;
  }

  function socketUrl(token) {
    let url = socketBase() + "ws/chat/" + encodeURIComponent(clientId);
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
    // Sending is a user gesture: the moment to let the page play the answer aloud later.
    if (speaker.on) audioContext();
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

  // ---------------------------------------------------------------- voice: microphone and speaker
  //
  // The microphone talks to the hub's voice door, /ws/voice (the xiaozhi protocol, browser
  // variant), as device "web-<client id>" with the page's token:
  //   page → hello {audio_params: pcm16, 16 kHz, mono, 60 ms}   hub → hello {session_id, audio_params.sample_rate}
  //   page → listen start (manual while the button is held, auto after a click)
  //   page → binary frames: 60 ms of 16 kHz PCM16 from mic-worklet.js
  //   page → listen stop (release, or the second click)
  //   hub → stt (the user's message), llm (emotion), tts start, tts sentence_start (the answer's
  //         text, sentence by sentence), binary PCM16 frames at the announced rate (played
  //         gaplessly), tts stop
  // Pressing the button while an answer plays stops the playback at once and sends abort. The
  // hub puts the page's voice turns (device web-<client id>) in the page's own web session: typed
  // and spoken turns are one conversation, and a reload shows both.
  //
  // The speaker button reads typed answers aloud through POST api/v1/tts/synthesize (a WAV,
  // decoded and played with Web Audio). If the hub refuses that route to the page (401/403: it
  // wants an API key the page does not have; 404/405: not there), the button goes away with a
  // notice.

  const VOICE_DEVICE_PREFIX = "web-";
  const VOICE_HELLO_TIMEOUT_MS = 10000;
  // A press held this long is push-to-talk; a shorter one is a click that toggles listening.
  const HOLD_AFTER_MS = 300;
  // Frames said before the hub was ready (3 s of 60 ms), sent right after listen start.
  const PREROLL_FRAMES = 50;
  const FLUSH_TIMEOUT_MS = 500;
  // Lead given to the first frame after the playback queue ran dry.
  const PLAYBACK_CUSHION_S = 0.06;
  const SPEAKER_KEY = "hub.speaker";
  // The synthesis route takes at most 4096 characters.
  const MAX_SPOKEN_CHARS = 4000;

  // What the page's audio did, for the browser test (counters only).
  // Counters for tests; answerFrames: frames played per answer, in the order the answers began.
  const voiceStats = { framesSent: 0, framesPlayed: 0, clipsPlayed: 0, aborts: 0, answerFrames: [] };
  Object.defineProperty(window, "__hubVoice", { value: voiceStats, writable: false, enumerable: false, configurable: false });

  const voice = {
    ws: null,
    ready: false,
    opening: null,
    onHello: null,
    sessionId: "",
    sampleRate: 24000,
    context: null,
    worklet: null,
    // The microphone press in progress (see newPress).
    press: null,
    // The voice turn on screen: {id, text, finished, userEl, replyEl}.
    turn: null,
    // An utterance went to the hub and its answer has not ended: pressing again aborts it.
    answering: false,
    // listen stop was sent and its stt has not come: an stt otherwise means the hub ended the
    // utterance by itself (auto listening).
    awaitingTranscript: false,
    // After an abort, frames and sentences of the old answer are dropped until the next tts start.
    dropAudio: false,
    emotion: "",
    // Scheduled AudioBufferSourceNodes → "voice" (answer frames) or "clip" (a typed answer read aloud).
    sources: new Map(),
    nextTime: 0,
    drainWaiters: [],
    banner: "",
  };

  const speaker = {
    on: storageGet(SPEAKER_KEY) === "on",
    unavailable: false,
    chain: Promise.resolve(),
  };

  class VoiceProblem extends Error {}

  function audioContext() {
    if (!voice.context) {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (typeof Context !== "function") return null;
      voice.context = new Context();
    }
    if (voice.context.state === "suspended") voice.context.resume().catch(() => {});
    return voice.context;
  }

  function micProblem(err) {
    if (err instanceof VoiceProblem) return err.message;
    const name = err && err.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "The microphone is blocked for this page. Allow it in the browser's site settings, then try again.";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") return "No microphone was found.";
    if (name === "NotReadableError" || name === "AbortError") return "The microphone is busy or could not be started.";
    return "The microphone could not be started" + (err && err.message ? ": " + err.message : ".");
  }

  // Banners about the microphone go when the user tries again.
  function voiceBanner(text) {
    voice.banner = text;
    showBanner(text);
  }

  function notice(text) {
    keepingScroll(() => appendErrorNote(text, null, null));
  }

  // ---------------------------------------------------------------- voice: the socket

  function voiceUrl() {
    let url = socketBase() + "ws/voice?device-id=" + encodeURIComponent(VOICE_DEVICE_PREFIX + clientId);
    const token = getToken();
    if (token) url += "&token=" + encodeURIComponent(token);
    return url;
  }

  const voiceOpen = () => !!voice.ws && voice.ready && voice.ws.readyState === WebSocket.OPEN;

  function sendVoice(message) {
    if (!voiceOpen()) return false;
    if (voice.sessionId) message.session_id = voice.sessionId;
    voice.ws.send(JSON.stringify(message));
    return true;
  }

  // Resolves once the hub's hello has come; rejects with a VoiceProblem.
  function openVoice() {
    if (voiceOpen()) return Promise.resolve();
    if (voice.opening) return voice.opening;
    const opening = new Promise((resolve, reject) => {
      let ws;
      try {
        ws = new WebSocket(voiceUrl());
      } catch (_) {
        reject(new VoiceProblem("The voice connection could not be opened."));
        return;
      }
      ws.binaryType = "arraybuffer";
      voice.ws = ws;
      voice.ready = false;
      voice.onHello = resolve;
      let opened = false;
      const timer = window.setTimeout(() => {
        if (voice.ws !== ws || voice.ready) return;
        reject(new VoiceProblem("The hub did not answer the voice hello in time."));
        ws.close();
      }, VOICE_HELLO_TIMEOUT_MS);
      ws.addEventListener("open", () => {
        opened = true;
        ws.send(JSON.stringify({
          type: "hello",
          version: 1,
          transport: "websocket",
          audio_params: { format: "pcm16", sample_rate: 16000, channels: 1, frame_duration: 60 },
        }));
      });
      ws.addEventListener("message", (event) => {
        if (voice.ws === ws) handleVoiceMessage(event.data);
      });
      ws.addEventListener("close", (event) => {
        window.clearTimeout(timer);
        if (voice.ws !== ws) return;
        const wasReady = voice.ready;
        voice.ws = null;
        voice.ready = false;
        voice.onHello = null;
        if (!wasReady) {
          // A refused upgrade never opens; the browser does not say why.
          reject(new VoiceProblem(opened
            ? "The hub closed the voice connection" + (event.reason ? " (" + event.reason + ")" : "") + "."
            : "The hub refused the voice connection: it may want an access token this page does not have, allow only certain devices, or have too many voice sessions."));
        }
        onVoiceClosed(event, wasReady);
      });
    });
    voice.opening = opening;
    const done = () => {
      if (voice.opening === opening) voice.opening = null;
    };
    opening.then(done, done);
    return opening;
  }

  function onVoiceClosed(event, wasReady) {
    // Before the hello, the press waiting for it hears of the failure from openVoice.
    if (!wasReady) return;
    const press = voice.press;
    const busy = !!press || (voice.turn && !voice.turn.finished);
    if (press) cancelPress(press);
    voice.answering = false;
    voice.awaitingTranscript = false;
    finishVoiceTurn(false, voice.turn && !voice.turn.finished ? "The voice connection closed before the answer was complete." : null);
    // The hub closes an idle connection; that is only news while something was going on.
    if (busy) voiceBanner("The voice connection closed" + (event.reason ? " (" + event.reason + ")" : "") + ".");
    updateControls();
  }

  function handleVoiceMessage(data) {
    if (data instanceof ArrayBuffer) {
      onVoiceAudio(data);
      return;
    }
    let message;
    try {
      message = JSON.parse(data);
    } catch (_) {
      console.warn("hub: ignoring a voice message that is not JSON", String(data).slice(0, 200));
      return;
    }
    if (!message || typeof message !== "object") return;
    switch (message.type) {
      case "hello":
        onVoiceHello(message);
        break;
      case "stt":
        onVoiceTranscript(message);
        break;
      case "llm":
        voice.emotion = typeof message.text === "string" ? Array.from(message.text).slice(0, 2).join("") : "";
        break;
      case "tts":
        onVoiceSpeech(message);
        break;
      case "error":
        onVoiceError(message);
        break;
      case "alert":
        if (typeof message.message === "string" && message.message) keepingScroll(() => appendSystemNote(message.message, null));
        break;
      case "pong":
      case "mcp":
        break;
      default:
        console.warn("hub: ignoring a voice message of unknown type", message.type);
    }
  }

  function onVoiceHello(message) {
    const params = message.audio_params && typeof message.audio_params === "object" ? message.audio_params : {};
    const rate = Number(params.sample_rate);
    voice.sampleRate = Number.isInteger(rate) && rate >= 8000 && rate <= 96000 ? rate : 24000;
    voice.sessionId = typeof message.session_id === "string" ? message.session_id : "";
    voice.ready = true;
    const resolve = voice.onHello;
    voice.onHello = null;
    if (resolve) resolve();
  }

  // ---------------------------------------------------------------- voice: turns in the view

  function voiceMeta(el, text) {
    let meta = el.querySelector(":scope > .meta");
    if (!meta) {
      meta = h("div", "meta");
      el.appendChild(meta);
    }
    meta.textContent = text;
  }

  function ensureVoiceReply(turn) {
    if (turn.replyEl && turn.replyEl.isConnected) return turn.replyEl;
    turn.replyEl = createAssistant(turn.id, turn.text === "");
    turn.replyEl.classList.add("voice");
    if (turn.text !== "") {
      turn.replyEl.classList.add("streaming");
      turn.replyEl.querySelector(".content").replaceChildren(renderMarkdown(turn.text));
    }
    return turn.replyEl;
  }

  function newVoiceTurn() {
    finishVoiceTurn(false, null);
    voice.turn = { id: "v" + nextMessageId(), text: "", finished: false, userEl: null, replyEl: null };
    return voice.turn;
  }

  function onVoiceTranscript(message) {
    const text = typeof message.text === "string" ? message.text.trim() : "";
    const press = voice.press;
    if (!voice.awaitingTranscript && press && press.listening && press.kind === "toggle") {
      // The hub ended the utterance by itself (auto listening): it listens again after the answer.
      press.paused = true;
      updateMic();
    }
    voice.awaitingTranscript = false;
    if (!text) {
      voice.answering = false;
      keepingScroll(() => appendSystemNote("Nothing was recognized.", null));
      rearmToggle();
      return;
    }
    voice.answering = true;
    voice.dropAudio = false;
    const turn = newVoiceTurn();
    keepingScroll(() => {
      turn.userEl = appendUser(text, turn.id, null);
      turn.userEl.classList.add("voice");
      voiceMeta(turn.userEl, "voice");
      ensureVoiceReply(turn);
    }, true);
  }

  function onVoiceSpeech(message) {
    if (message.state === "start") {
      voice.dropAudio = false;
      voice.answering = true;
      voiceStats.answerFrames.push(0);
      const turn = voice.turn && !voice.turn.finished ? voice.turn : newVoiceTurn();
      keepingScroll(() => ensureVoiceReply(turn));
    } else if (message.state === "sentence_start") {
      if (voice.dropAudio || typeof message.text !== "string" || !message.text.trim()) return;
      const turn = voice.turn && !voice.turn.finished ? voice.turn : newVoiceTurn();
      turn.text += (turn.text ? " " : "") + message.text.trim();
      keepingScroll(() => {
        const el = ensureVoiceReply(turn);
        el.classList.remove("pending");
        el.classList.add("streaming");
        const typing = el.querySelector(".typing");
        if (typing) typing.remove();
        el.querySelector(".content").replaceChildren(renderMarkdown(turn.text));
      });
    } else if (message.state === "stop") {
      voice.answering = false;
      finishVoiceTurn(false, null);
      rearmToggle();
    }
  }

  function finishVoiceTurn(interrupted, errorText) {
    const turn = voice.turn;
    if (!turn || turn.finished) return;
    turn.finished = true;
    const emotion = voice.emotion;
    voice.emotion = "";
    keepingScroll(() => {
      const el = turn.replyEl && turn.replyEl.isConnected ? turn.replyEl : null;
      if (el && turn.text === "") {
        el.remove();
        turn.replyEl = null;
      } else if (el) {
        finishStreaming(el);
        el.dataset.done = "true";
        if (interrupted) el.dataset.interrupted = "true";
        voiceMeta(el, [emotion, "voice", interrupted ? "interrupted" : ""].filter(Boolean).join(" · "));
      }
      if (errorText) appendErrorNote(errorText, turn.id, turn.replyEl || turn.userEl);
    });
  }

  function onVoiceError(message) {
    const text = typeof message.message === "string" && message.message ? message.message : "The voice session failed.";
    if (voice.awaitingTranscript || message.code === "recognition_failed") {
      voice.awaitingTranscript = false;
      voice.answering = false;
    }
    notice("Voice: " + text);
    rearmToggle();
  }

  // ---------------------------------------------------------------- voice: playback

  function onVoiceAudio(buffer) {
    if (voice.dropAudio || !voice.context) return;
    const count = buffer.byteLength >> 1;
    if (count === 0) return;
    const audio = voice.context.createBuffer(1, count, voice.sampleRate);
    const channel = audio.getChannelData(0);
    const view = new DataView(buffer);
    for (let i = 0; i < count; i += 1) channel[i] = view.getInt16(2 * i, true) / 32768;
    schedule(audio, "voice");
    voiceStats.framesPlayed += 1;
    if (voiceStats.answerFrames.length > 0) voiceStats.answerFrames[voiceStats.answerFrames.length - 1] += 1;
  }

  // Queues `buffer` right after what is already queued: frames play back to back, without gaps.
  function schedule(buffer, kind) {
    const context = voice.context;
    const now = context.currentTime;
    if (voice.nextTime < now + 0.01) voice.nextTime = now + PLAYBACK_CUSHION_S;
    const source = context.createBufferSource();
    source.buffer = buffer;
    source.connect(context.destination);
    source.addEventListener("ended", () => {
      if (voice.sources.delete(source) && voice.sources.size === 0) playbackDrained();
    });
    voice.sources.set(source, kind);
    source.start(voice.nextTime);
    voice.nextTime += buffer.duration;
    if (voice.sources.size === 1) updateMic();
  }

  // Stops what plays now (only `kind`, or everything).
  function stopPlayback(kind) {
    for (const [source, which] of voice.sources) {
      if (kind && which !== kind) continue;
      voice.sources.delete(source);
      try {
        source.stop();
      } catch (_) {
        // Not started yet or already ended.
      }
      source.disconnect();
    }
    if (voice.sources.size === 0) {
      voice.nextTime = 0;
      playbackDrained();
    }
  }

  function playbackDrained() {
    const waiters = voice.drainWaiters;
    voice.drainWaiters = [];
    for (const resolve of waiters) resolve();
    updateMic();
  }

  function whenPlaybackDrained() {
    if (voice.sources.size === 0) return Promise.resolve();
    return new Promise((resolve) => voice.drainWaiters.push(resolve));
  }

  // The user speaks over the answer: silence it now, and tell the hub to stop it.
  function interruptAnswer() {
    if (voice.sources.size === 0 && !voice.answering) return;
    stopPlayback(null);
    voice.dropAudio = true;
    if (voice.answering) sendVoice({ type: "abort" });
    voice.answering = false;
    voice.awaitingTranscript = false;
    voiceStats.aborts += 1;
    finishVoiceTurn(true, null);
  }

  // ---------------------------------------------------------------- voice: the microphone

  function newPress() {
    const press = {
      // null until decided: "hold" (push-to-talk) or "toggle" (click to start, click to send).
      kind: null,
      // listen start was sent: frames go to the hub (unless paused).
      listening: false,
      // In toggle listening, the hub ended the utterance itself and answers it.
      paused: false,
      cancelled: false,
      done: false,
      framesSent: 0,
      preroll: [],
      capture: null,
      flushed: null,
      timer: 0,
    };
    press.decided = new Promise((resolve) => {
      press.decide = resolve;
    });
    press.ended = new Promise((resolve) => {
      press.end = resolve;
    });
    return press;
  }

  function micPressed() {
    const current = voice.press;
    if (current) {
      // The second click of a toggle sends what was said.
      if (current.kind !== "hold") {
        window.clearTimeout(current.timer);
        current.kind = "toggle";
        current.decide();
        current.end("stop");
        updateMic();
      }
      return;
    }
    if (ui.mic.disabled) return;
    if (!ui.banner.hidden && ui.bannerText.textContent === voice.banner) hideBanner();
    interruptAnswer();
    const context = audioContext();
    const press = newPress();
    voice.press = press;
    press.timer = window.setTimeout(() => {
      if (press.kind !== null) return;
      press.kind = "hold";
      press.decide();
      updateMic();
    }, HOLD_AFTER_MS);
    updateMic();
    runPress(press, context);
  }

  function micReleased() {
    const press = voice.press;
    if (!press) return;
    if (press.kind === null) {
      window.clearTimeout(press.timer);
      press.kind = "toggle";
      press.decide();
      updateMic();
    } else if (press.kind === "hold") {
      press.end("stop");
    }
  }

  function cancelPress(press) {
    press.cancelled = true;
    press.decide();
    press.end("cancel");
  }

  async function runPress(press, context) {
    try {
      if (!context) throw new VoiceProblem("This browser cannot record audio (it has no Web Audio).");
      // Both at once; a microphone problem is told first (it is the one the user can fix).
      const opening = openVoice();
      opening.catch(() => {});
      await startCapture(context, press);
      await opening;
      await press.decided;
      if (press.cancelled) return;
      interruptAnswer();
      sendVoice({ type: "listen", state: "start", mode: press.kind === "hold" ? "manual" : "auto" });
      press.listening = true;
      for (const frame of press.preroll.splice(0)) sendAudio(press, frame);
      updateMic();
      if ((await press.ended) !== "stop" || !voiceOpen()) return;
      if (!press.paused) await flushCapture(press);
      press.listening = false;
      sendVoice({ type: "listen", state: "stop" });
      if (press.framesSent > 0 && !press.paused) {
        voice.answering = true;
        voice.awaitingTranscript = true;
      }
    } catch (err) {
      if (!press.cancelled) voiceBanner(micProblem(err));
    } finally {
      press.done = true;
      press.listening = false;
      window.clearTimeout(press.timer);
      if (press.capture) stopCapture(press.capture);
      press.capture = null;
      if (voice.press === press) voice.press = null;
      updateControls();
    }
  }

  async function startCapture(context, press) {
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
      throw new VoiceProblem("The browser offers this page no microphone: it allows one only on https pages (or on localhost).");
    }
    if (!context.audioWorklet || typeof AudioWorkletNode !== "function") {
      throw new VoiceProblem("This browser cannot record audio for the hub (it has no AudioWorklet).");
    }
    if (!voice.worklet) {
      voice.worklet = context.audioWorklet.addModule("mic-worklet.js");
      voice.worklet.catch(() => {
        voice.worklet = null;
      });
    }
    await voice.worklet;
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
    const capture = { stream, source: null, node: null };
    if (press.done) {
      stopCapture(capture);
      return;
    }
    capture.source = context.createMediaStreamSource(stream);
    capture.node = new AudioWorkletNode(context, "hub-mic", {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: 1,
      channelCountMode: "explicit",
      processorOptions: { frameDuration: 60 },
    });
    capture.node.port.onmessage = (event) => onMicMessage(press, event.data);
    capture.source.connect(capture.node);
    press.capture = capture;
  }

  function stopCapture(capture) {
    if (capture.node) {
      capture.node.port.postMessage("stop");
      capture.node.port.onmessage = null;
      capture.node.disconnect();
    }
    if (capture.source) capture.source.disconnect();
    for (const track of capture.stream.getTracks()) track.stop();
  }

  // Asks the worklet for its partial frame; resolves once every frame before it has arrived.
  function flushCapture(press) {
    const capture = press.capture;
    if (!capture || !capture.node) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        window.clearTimeout(timer);
        press.flushed = null;
        resolve();
      };
      const timer = window.setTimeout(done, FLUSH_TIMEOUT_MS);
      press.flushed = done;
      capture.node.port.postMessage("flush");
    });
  }

  function onMicMessage(press, data) {
    if (data instanceof ArrayBuffer) {
      if (press.done) return;
      if (!press.listening) {
        press.preroll.push(data);
        if (press.preroll.length > PREROLL_FRAMES) press.preroll.shift();
      } else if (!press.paused) {
        sendAudio(press, data);
      }
      return;
    }
    if (data && data.type === "flushed" && press.flushed) press.flushed();
  }

  function sendAudio(press, buffer) {
    if (!voiceOpen()) return;
    voice.ws.send(buffer);
    press.framesSent += 1;
    voiceStats.framesSent += 1;
  }

  // Toggle listening the hub paused to answer (auto): listen again once the answer has played.
  function rearmToggle() {
    const press = voice.press;
    if (!press || !press.paused || press.done) return;
    whenPlaybackDrained().then(() => {
      if (voice.press !== press || !press.paused || press.done) return;
      if (sendVoice({ type: "listen", state: "start", mode: "auto" })) press.paused = false;
      updateMic();
    });
  }

  const MIC_TEXT = {
    idle: "Hold to talk, or click to start and click again to send",
    starting: "Starting the microphone…",
    hold: "Listening — release to send",
    toggle: "Listening — click to send",
    paused: "Answering — click to stop listening",
  };

  function updateMic() {
    const press = voice.press;
    let state = "idle";
    let text = MIC_TEXT.idle;
    if (press && press.paused) {
      state = "paused";
      text = MIC_TEXT.paused;
    } else if (press && press.listening) {
      state = "listening";
      text = press.kind === "hold" ? MIC_TEXT.hold : MIC_TEXT.toggle;
    } else if (press) {
      state = "starting";
      text = press.kind === "toggle" ? MIC_TEXT.starting + " Click to send." : MIC_TEXT.starting;
    }
    if (ui.mic.dataset.state !== state) ui.mic.dataset.state = state;
    ui.mic.dataset.mode = press && press.kind ? press.kind : "";
    ui.mic.dataset.playing = voice.sources.size > 0 ? "true" : "false";
    ui.mic.setAttribute("aria-pressed", press ? "true" : "false");
    ui.mic.setAttribute("aria-label", "Talk: " + text);
    ui.mic.title = text;
  }

  function updateVoiceControls(connected) {
    // A press in progress keeps the button: its release must still arrive.
    ui.mic.disabled = !connected && !voice.press;
    ui.speaker.hidden = speaker.unavailable;
    ui.speaker.disabled = !connected;
    ui.speaker.setAttribute("aria-pressed", speaker.on ? "true" : "false");
    ui.speaker.title = speaker.on ? "Reading typed answers aloud — click to stop" : "Read typed answers aloud";
    updateMic();
  }

  // ---------------------------------------------------------------- speaker: typed answers read aloud

  // What is worth saying of a Markdown answer: no code blocks, links as their text, no markup.
  function speakableText(markdown) {
    return markdown
      .replace(/(^|\n) {0,3}(`{3,}|~{3,})[\s\S]*?(\n {0,3}\2[ \t]*(?=\n|$)|$)/g, " ")
      .replace(/`+([^`]*)`+/g, "$1")
      .replace(/\[([^\]\n]*)\]\([^)\s]*\)/g, "$1")
      .replace(/https?:\/\/\S+/g, " ")
      .replace(/[*_#>|~]+/g, " ")
      .replace(/\s+/g, " ")
      .trim()
      .slice(0, MAX_SPOKEN_CHARS);
  }

  function readAloud(text) {
    if (!speaker.on || speaker.unavailable) return;
    const spoken = speakableText(text);
    const context = audioContext();
    if (!spoken || !context) return;
    // Synthesis starts at once; playback keeps the answers' order.
    const request = fetch("api/v1/tts/synthesize", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text: spoken }),
      cache: "no-store",
    });
    speaker.chain = speaker.chain
      .then(() => playSynthesized(request, context))
      .catch((err) => console.warn("hub: reading the answer aloud failed", err));
  }

  async function playSynthesized(request, context) {
    let response;
    try {
      response = await request;
    } catch (_) {
      notice("The answer could not be read aloud: the hub did not answer.");
      return;
    }
    if ([401, 403, 404, 405].includes(response.status)) {
      speaker.unavailable = true;
      speaker.on = false;
      storageSet(SPEAKER_KEY, null);
      updateControls();
      voiceBanner("This hub does not let the page read answers aloud (its speech route wants an API key the page does not have), so the speaker button is gone.");
      return;
    }
    if (!response.ok) {
      let detail = "";
      try {
        const body = await response.json();
        if (body && body.error && typeof body.error.message === "string") detail = body.error.message;
      } catch (_) {
        // No JSON error: the status says enough.
      }
      notice("The answer could not be read aloud" + (detail ? ": " + detail : " (HTTP " + response.status + ")."));
      return;
    }
    let audio;
    try {
      audio = await context.decodeAudioData(await response.arrayBuffer());
    } catch (_) {
      notice("The answer could not be read aloud: the audio could not be decoded.");
      return;
    }
    if (!speaker.on) return;
    schedule(audio, "clip");
    voiceStats.clipsPlayed += 1;
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

  // The microphone: a press held past HOLD_AFTER_MS is push-to-talk, a click toggles. Space and
  // Enter work the same way from the keyboard.
  ui.mic.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    try {
      ui.mic.setPointerCapture(event.pointerId);
    } catch (_) {
      // Without capture the release still arrives on the button in most cases.
    }
    micPressed();
  });
  ui.mic.addEventListener("pointerup", micReleased);
  ui.mic.addEventListener("pointercancel", micReleased);
  ui.mic.addEventListener("contextmenu", (event) => event.preventDefault());
  ui.mic.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    if (!event.repeat) micPressed();
  });
  ui.mic.addEventListener("keyup", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    micReleased();
  });

  ui.speaker.addEventListener("click", () => {
    speaker.on = !speaker.on;
    storageSet(SPEAKER_KEY, speaker.on ? "on" : null);
    if (speaker.on) audioContext();
    else stopPlayback("clip");
    updateControls();
  });

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
