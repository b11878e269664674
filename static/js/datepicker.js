/* The portal's one date picker (issue 18.5). No dependencies, no inline code (CSP script-src 'self').

   Every date field is a text input that takes dd/mm/yyyy as typed (macros/forms.html, date_input), so
   it works without this script. With it, the calendar button beside the input opens a month grid,
   Monday first, in Vietnam time: the arrows move a day or a week, Page Up / Page Down a month,
   Home / End to the ends of the week, Enter picks, Escape closes; Alt + Down in the input opens it.
   Picking writes dd/mm/yyyy and fires "input" and "change", so the filters that htmx sends on change
   react as they do to typing. The server decides whether a date is valid.

   Also here, the other small piece of form behaviour: a chip's remove button ([data-chip-remove]) takes
   its chip (and the hidden input inside it) out of a type-ahead's choices. */
(function () {
  "use strict";

  var WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"];
  var SHORT = ["T2", "T3", "T4", "T5", "T6", "T7", "CN"];
  var state = null; // the open picker: {popup, input, toggle, title, body, month, focus}

  document.documentElement.classList.add("has-datepicker"); // the CSS shows the buttons

  // --- dates (local midnight; no time of day) ---------------------------------------------------------

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function format(d) { return pad(d.getDate()) + "/" + pad(d.getMonth() + 1) + "/" + d.getFullYear(); }

  function make(y, m, d) {
    var x = new Date(2000, 0, 1);
    x.setFullYear(y, m, d);
    return x.getFullYear() === y && x.getMonth() === m && x.getDate() === d ? x : null;
  }

  function parse(text) {
    var t = (text || "").trim(), m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(t);
    if (m) { return make(+m[3], +m[2] - 1, +m[1]); }
    m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
    return m ? make(+m[1], +m[2] - 1, +m[3]) : null;
  }

  function today() {
    try { // the portal counts days in Vietnam time, whatever the computer's clock is set to
      var iso = new Intl.DateTimeFormat("en-CA", {timeZone: "Asia/Ho_Chi_Minh"}).format(new Date());
      var found = parse(iso.slice(0, 10));
      if (found) { return found; }
    } catch (e) { /* an old browser: its own calendar day */ }
    var n = new Date();
    return make(n.getFullYear(), n.getMonth(), n.getDate());
  }

  function addDays(d, n) { var x = new Date(d.getTime()); x.setDate(x.getDate() + n); return x; }

  function addMonths(d, n) {
    var first = make(d.getFullYear(), d.getMonth(), 1);
    first.setMonth(first.getMonth() + n);
    var last = new Date(first.getFullYear(), first.getMonth() + 1, 0).getDate();
    return make(first.getFullYear(), first.getMonth(), Math.min(d.getDate(), last));
  }

  function spoken(d, weekday) { // the visible number is part of the name (WCAG 2.5.3, axe label-content-name-mismatch)
    return WEEKDAYS[weekday] + ", ngày " + d.getDate() + " tháng " + (d.getMonth() + 1) + " năm " + d.getFullYear();
  }

  function same(a, b) { return !!a && !!b && a.getTime() === b.getTime(); }

  // --- the popup --------------------------------------------------------------------------------------

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) { el.className = className; }
    if (text) { el.textContent = text; }
    return el;
  }

  function button(className, text, label) {
    var b = element("button", className, text);
    b.type = "button";
    if (label) { b.setAttribute("aria-label", label); }
    return b;
  }

  function build(label) {
    var popup = element("div", "datepicker");
    popup.setAttribute("role", "dialog");
    popup.setAttribute("aria-label", label ? "Chọn ngày: " + label : "Chọn ngày");
    var head = element("div", "datepicker-head");
    var title = element("div", "datepicker-title");
    title.setAttribute("aria-live", "polite");
    head.appendChild(button("datepicker-prev", "‹", "Tháng trước"));
    head.appendChild(title);
    head.appendChild(button("datepicker-next", "›", "Tháng sau"));
    var table = element("table", "datepicker-grid");
    var row = element("tr");
    SHORT.forEach(function (name, i) {
      var th = element("th", null, name);
      th.scope = "col";
      th.abbr = WEEKDAYS[i];
      row.appendChild(th);
    });
    table.appendChild(element("thead")).appendChild(row);
    var body = table.appendChild(element("tbody"));
    var foot = element("div", "datepicker-foot");
    foot.appendChild(button("datepicker-today", "Hôm nay"));
    foot.appendChild(button("datepicker-close", "Đóng"));
    popup.appendChild(head);
    popup.appendChild(table);
    popup.appendChild(foot);
    return {popup: popup, title: title, body: body};
  }

  function render(moveFocus) {
    var month = state.month, chosen = parse(state.input.value), now = today();
    state.title.textContent = "Tháng " + (month.getMonth() + 1) + " năm " + month.getFullYear();
    var day = addDays(month, -((month.getDay() + 6) % 7)); // the Monday on or before the 1st
    state.body.textContent = "";
    for (var week = 0; week < 6; week++) {
      var tr = element("tr");
      for (var i = 0; i < 7; i++) {
        var td = element("td");
        var b = button("datepicker-day", String(day.getDate()), spoken(day, i) + (same(day, now) ? " (hôm nay)" : ""));
        b.setAttribute("data-date", format(day));
        b.tabIndex = same(day, state.focus) ? 0 : -1;
        if (day.getMonth() !== month.getMonth()) { b.classList.add("outside"); }
        if (same(day, now)) { b.setAttribute("aria-current", "date"); }
        b.setAttribute("aria-pressed", same(day, chosen) ? "true" : "false");
        td.appendChild(b);
        tr.appendChild(td);
        day = addDays(day, 1);
      }
      state.body.appendChild(tr);
    }
    if (moveFocus) {
      var current = state.body.querySelector("[tabindex='0']");
      if (current) { current.focus(); }
    }
  }

  function place() {
    var r = state.input.getBoundingClientRect(), doc = document.documentElement;
    var width = state.popup.offsetWidth;
    var left = Math.min(r.left, doc.clientWidth - width - 8);
    state.popup.style.left = Math.max(8, left) + window.scrollX + "px";
    state.popup.style.top = r.bottom + window.scrollY + 4 + "px";
  }

  function open(toggle) {
    close(false);
    var input = toggle.parentNode.querySelector("input[data-datepicker]");
    if (!input) { return; }
    var label = toggle.getAttribute("data-label") || "";
    var parts = build(label);
    var start = parse(input.value) || today();
    state = {popup: parts.popup, title: parts.title, body: parts.body, input: input, toggle: toggle,
             month: make(start.getFullYear(), start.getMonth(), 1), focus: start};
    document.body.appendChild(state.popup);
    toggle.setAttribute("aria-expanded", "true");
    render(false);
    place();
    render(true);
  }

  function close(returnFocus) {
    if (!state) { return; }
    var toggle = state.toggle;
    state.popup.remove();
    toggle.setAttribute("aria-expanded", "false");
    state = null;
    if (returnFocus) { toggle.focus(); }
  }

  function moveTo(day) {
    state.focus = day;
    state.month = make(day.getFullYear(), day.getMonth(), 1);
    render(true);
  }

  function pick(day) {
    var input = state.input;
    input.value = format(day);
    close(false);
    input.focus();
    input.dispatchEvent(new Event("input", {bubbles: true}));
    input.dispatchEvent(new Event("change", {bubbles: true}));
  }

  // --- events (delegated: inputs that htmx swaps in work the same) ----------------------------------

  document.addEventListener("click", function (event) {
    var target = event.target;
    var toggle = target.closest(".datepicker-toggle");
    if (toggle) {
      if (state && state.toggle === toggle) { close(true); } else { open(toggle); }
      return;
    }
    if (!state) { return; }
    if (!state.popup.contains(target)) { close(false); return; }
    var b = target.closest("button");
    if (!b) { return; }
    if (b.classList.contains("datepicker-day")) { pick(parse(b.getAttribute("data-date"))); }
    else if (b.classList.contains("datepicker-prev")) { state.focus = addMonths(state.focus, -1); state.month = addMonths(state.month, -1); render(false); }
    else if (b.classList.contains("datepicker-next")) { state.focus = addMonths(state.focus, 1); state.month = addMonths(state.month, 1); render(false); }
    else if (b.classList.contains("datepicker-today")) { pick(today()); }
    else if (b.classList.contains("datepicker-close")) { close(true); }
  });

  var MOVES = {ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7};

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!state) {
      if (event.altKey && event.key === "ArrowDown" && target.matches && target.matches("input[data-datepicker]")) {
        var toggle = target.parentNode.querySelector(".datepicker-toggle");
        if (toggle) { event.preventDefault(); open(toggle); }
      }
      return;
    }
    if (!state.popup.contains(target)) { return; }
    if (event.key === "Escape") { event.preventDefault(); close(true); return; }
    if (!target.classList.contains("datepicker-day")) { return; }
    var day = state.focus, weekday = (day.getDay() + 6) % 7;
    if (MOVES[event.key] !== undefined) { day = addDays(day, MOVES[event.key]); }
    else if (event.key === "PageUp") { day = addMonths(day, event.shiftKey ? -12 : -1); }
    else if (event.key === "PageDown") { day = addMonths(day, event.shiftKey ? 12 : 1); }
    else if (event.key === "Home") { day = addDays(day, -weekday); }
    else if (event.key === "End") { day = addDays(day, 6 - weekday); }
    else { return; }
    event.preventDefault();
    moveTo(day);
  });

  document.addEventListener("focusin", function (event) {
    if (state && !state.popup.contains(event.target) && event.target !== state.toggle) { close(false); }
  });

  // a swap that took the field away (a boosted page, a re-rendered form) takes its grid too; one that
  // only answered the filter the pick itself sent leaves a grid opened since then alone
  document.addEventListener("htmx:afterSettle", function () {
    if (state && !state.input.isConnected) { close(false); }
  });
  document.addEventListener("htmx:beforeHistorySave", function () { close(false); });
  window.addEventListener("resize", function () { if (state) { place(); } });

  // --- chips: the remove button of a type-ahead's choice ---------------------------------------------

  document.addEventListener("click", function (event) {
    var remove = event.target.closest("[data-chip-remove]");
    if (!remove) { return; }
    var chip = remove.closest(".chip"), box = chip && chip.closest("[data-chips]");
    if (!chip) { return; }
    var next = chip.nextElementSibling || chip.previousElementSibling;
    chip.remove();
    var focus = next && next.querySelector("[data-chip-remove]");
    if (!focus && box) { focus = box.querySelector("input[type=search]"); }
    if (focus) { focus.focus(); }
  });
}());
