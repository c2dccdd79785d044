// The desk's small script; every page works without it. It adds: live length counters and
// previews (the channel modules count and draw, through /api/measure: the browser keeps no copy
// of any platform's rules), pages that redraw when the queue changes, and drag and drop in the
// calendar (the keyboard's way is the move form on each post's page).
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var main = document.getElementById("main");
  // Set once an editor types or ticks something: the page then asks before it redraws.
  var editing = false;

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        return {ok: response.ok, status: response.status, answer: answer};
      });
    });
  }

  function wireCounters(root) {
    root.querySelectorAll("form[data-article] textarea[data-channel]").forEach(function (area) {
      var timer = null;
      var channel = area.dataset.channel;
      var counter = document.getElementById("count-" + channel);
      var problems = document.getElementById("problems-" + channel);
      var preview = document.getElementById("preview-" + channel);
      area.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var data = {channel: channel, text: area.value, article_id: area.form.dataset.article};
          post("/api/measure", data).then(function (result) {
            var measured = result.answer;
            if (result.status === 413) {
              // Too long to be sent to be counted: no platform takes it either.
              counter.classList.add("over");
              // Its count is not known: no earlier count stands for it.
              counter.querySelector(".length").textContent = "—";
              problems.textContent = "";
              var item = document.createElement("li");
              item.textContent = body.dataset.tooLong;
              problems.appendChild(item);
              return;
            }
            if (measured.length === undefined) { return; }
            counter.querySelector(".length").textContent = measured.length_shown;
            counter.querySelector(".limit").textContent = measured.limit_shown;
            var card = area.closest(".card");
            var summary = card && card.querySelector(".summary-count");
            if (summary) { summary.textContent = measured.length_shown + " / " + measured.limit_shown; }
            counter.classList.toggle("over", measured.length > measured.limit);
            // The server's preview is escaped HTML made by the channel module.
            if (preview && measured.preview !== undefined) { preview.innerHTML = measured.preview; }
            problems.textContent = "";
            measured.problems.forEach(function (problem) {
              var item = document.createElement("li");
              item.textContent = problem;
              problems.appendChild(item);
            });
          });
        }, 150);
      });
    });
  }

  // What the calendar last said, kept through a redraw that another change may start.
  var said = null;

  function say(id, text) {
    said = {id: id, text: text};
    var region = document.getElementById(id);
    if (region) { region.textContent = text; }
  }

  // The last move by drag and drop, undone by one button: the post goes back where it stood.
  function offerUndo(postId, answer) {
    var status = document.getElementById("cal-status");
    if (!status) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "undo";
    button.textContent = answer.undo;
    button.addEventListener("click", function () {
      post("/api/posts/" + postId + "/move", {at: answer.before}).then(function (back) {
        redraw().then(function () {
          say(back.ok ? "cal-status" : "cal-message", back.ok ? back.answer.message : back.answer.error);
        });
      });
    });
    status.appendChild(document.createTextNode(" "));
    status.appendChild(button);
  }

  function wireCalendar(root) {
    if (!root.querySelector(".cal-week, .cal-month")) { return; }
    var dragged = null;
    root.querySelectorAll(".ev[draggable=true]").forEach(function (entry) {
      entry.addEventListener("dragstart", function (event) {
        dragged = entry;
        event.dataTransfer.setData("text/plain", entry.dataset.post);
        event.dataTransfer.effectAllowed = "move";
      });
      entry.addEventListener("dragend", function () { dragged = null; });
    });
    root.querySelectorAll(".cell, .free").forEach(function (target) {
      target.addEventListener("dragover", function (event) {
        if (!dragged) { return; }
        event.preventDefault();
        event.stopPropagation();
        target.classList.add("drop");
      });
      target.addEventListener("dragleave", function () { target.classList.remove("drop"); });
      target.addEventListener("drop", function (event) {
        event.preventDefault();
        event.stopPropagation();
        target.classList.remove("drop");
        if (!dragged) { return; }
        // A free slot carries its own time; an hour keeps the post's minutes, a day its time.
        var time = dragged.querySelector("b").textContent;
        var at = target.dataset.at;
        if (!at) {
          var hour = target.dataset.hour;
          at = target.dataset.day + "T" +
            (hour === undefined ? time : ("0" + hour).slice(-2) + time.slice(2));
        }
        var moved = dragged.dataset.post;
        post("/api/posts/" + moved + "/move", {at: at}).then(function (result) {
          if (result.ok) {
            redraw().then(function () {
              say("cal-status", result.answer.message);
              offerUndo(moved, result.answer);
            });
          } else {
            say("cal-message", result.answer.error);
            // Said where the post was dropped too: the editor's eyes are there.
            var refusal = document.createElement("p");
            refusal.className = "drop-refusal";
            refusal.setAttribute("aria-hidden", "true");
            refusal.textContent = result.answer.error;
            target.appendChild(refusal);
          }
        });
      });
    });
  }

  // A time typed in a field chooses the timing it belongs to ("At"): a typed time is never
  // left unused behind another choice.
  function wireChoosers(root) {
    root.querySelectorAll("[data-chooses]").forEach(function (field) {
      function choose() {
        var radio = document.getElementById(field.dataset.chooses);
        if (radio && field.value) { radio.checked = true; }
      }
      field.addEventListener("input", choose);
      field.addEventListener("change", choose);
    });
  }

  // The queue's bulk form: a tick in the table's head ticks the page's posts; the fields show
  // for the actions that use them, and typing a time or hours chooses the move that uses it.
  function wireBulk(root) {
    var form = root.querySelector("form#bulk");
    if (!form) { return; }
    var action = form.querySelector("[data-bulk-action]");
    var ticked = form.querySelector("input[name=scope][value=ticked]");
    var boxes = root.querySelectorAll("input[name=post][form=bulk]");
    var page = root.querySelector("#pick-page");
    if (page) {
      page.closest(".pick-page").hidden = false;
      page.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = page.checked; });
        ticked.checked = true;
      });
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", function () { ticked.checked = true; });
    });
    var fields = form.querySelectorAll("[data-for-actions]");
    function show() {
      fields.forEach(function (label) {
        label.hidden = label.dataset.forActions.split(" ").indexOf(action.value) < 0;
        // A hidden field is not sent: a time the editor no longer sees moves nothing.
        if (label.hidden) { label.querySelector("input").value = ""; }
      });
    }
    fields.forEach(function (label) {
      var input = label.querySelector("input");
      input.addEventListener("input", function () {
        var uses = label.dataset.forActions.split(" ");
        if (input.value && uses.indexOf(action.value) < 0) { action.value = uses[0]; show(); }
      });
    });
    action.addEventListener("change", show);
    show();
  }

  // On a phone an article's teasers start folded (the channel, its tick and its length show),
  // so that choosing channels and the button are within a thumb's reach; one with a problem
  // stays open.
  function foldOnPhones(root) {
    if (!window.matchMedia("(max-width: 700px)").matches) { return; }
    root.querySelectorAll("details.editor:not(.troubled)").forEach(function (details) {
      details.open = false;
    });
  }

  // Said once when the desk finds the editor signed out (in another tab, or the session ran
  // out): what they wrote is kept as a draft, and signing in again leads back here.
  var toldSignedOut = false;

  function signedOut() {
    if (toldSignedOut || !main) { return; }
    toldSignedOut = true;
    var notice = document.createElement("p");
    notice.className = "error signed-out";
    notice.setAttribute("role", "alert");
    notice.textContent = body.dataset.signedOut + " ";
    var link = document.createElement("a");
    link.href = "/signin?ended=1&next=" + encodeURIComponent(location.pathname + location.search);
    link.textContent = body.dataset.signIn;
    notice.appendChild(link);
    main.insertBefore(notice, main.firstChild);
  }

  function wireDraft(root) {
    root.querySelectorAll("form.compose[data-article]").forEach(function (form) {
      var timer = null;
      function keep() {
        clearTimeout(timer);
        timer = setTimeout(function () {
          var fields = {};
          new FormData(form).forEach(function (value, name) {
            if (name !== "csrf" && typeof value === "string") { fields[name] = value; }
          });
          var address = "/api/articles/" + form.dataset.article + "/draft";
          post(address, {fields: fields}).then(function (result) {
            if (result.status === 401) { signedOut(); }
          });
        }, 800);
      }
      form.addEventListener("input", keep);
      form.addEventListener("change", keep);
    });
  }

  function wire(root) {
    wireCounters(root);
    wireDraft(root);
    wireCalendar(root);
    wireChoosers(root);
    wireBulk(root);
    foldOnPhones(root);
  }

  function redraw() {
    return fetch(location.href, {credentials: "same-origin"}).then(function (response) {
      return response.text();
    }).then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var fresh = page.getElementById("main");
      if (!fresh || !main) { return; }
      var focused = document.activeElement ? document.activeElement.id : "";
      main.innerHTML = fresh.innerHTML;
      body.dataset.version = page.body.dataset.version;
      editing = false;
      wire(main);
      if (said) { say(said.id, said.text); }
      var again = focused && document.getElementById(focused);
      if (again) { again.focus(); }
    });
  }

  function offerRedraw() {
    if (document.getElementById("changed")) { return; }
    var notice = document.createElement("p");
    notice.id = "changed";
    notice.className = "notice";
    notice.setAttribute("role", "status");
    notice.textContent = body.dataset.changed + " ";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = body.dataset.reload;
    button.addEventListener("click", function () { location.reload(); });
    notice.appendChild(button);
    main.insertBefore(notice, main.firstChild);
  }

  wire(document);
  var live = main && main.hasAttribute("data-live");
  if (live) { main.addEventListener("input", function () { editing = true; }); }
  // Every page of a signed-in editor asks now and then: live pages redraw when the queue
  // changed, and every page says when the editor was signed out meanwhile.
  if (document.querySelector("form.signout")) {
    setInterval(function () {
      if (document.hidden || toldSignedOut) { return; }
      fetch("/api/changes", {credentials: "same-origin"}).then(function (response) {
        if (response.status === 401) { signedOut(); }
        return response.ok ? response.json() : null;
      }).then(function (answer) {
        if (!live || !answer || answer.version === body.dataset.version) { return; }
        if (editing) { offerRedraw(); } else { redraw(); }
      });
    }, 3000);
  }
})();
