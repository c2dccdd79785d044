// Live length counters and previews: the channel modules count and draw, through /api/measure;
// the browser keeps no copy of any platform's rules. Pages work without this script; it only
// adds the live count and preview.
(function () {
  "use strict";
  var csrf = document.body.dataset.csrf;
  document.querySelectorAll("form[data-article] textarea[data-channel]").forEach(function (area) {
    var article = area.form.dataset.article;
    var timer = null;
    var channel = area.dataset.channel;
    var counter = document.getElementById("count-" + channel);
    var problems = document.getElementById("problems-" + channel);
    var preview = document.getElementById("preview-" + channel);
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        fetch("/api/measure", {
          method: "POST",
          credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
          body: JSON.stringify({channel: channel, text: area.value, article_id: article})
        }).then(function (response) { return response.json(); }).then(function (result) {
          if (result.length === undefined) { return; }
          counter.querySelector(".length").textContent = result.length;
          counter.querySelector(".limit").textContent = result.limit;
          counter.classList.toggle("over", result.length > result.limit);
          // The server's preview is escaped HTML made by the channel module.
          if (preview && result.preview !== undefined) { preview.innerHTML = result.preview; }
          problems.textContent = "";
          result.problems.forEach(function (problem) {
            var item = document.createElement("li");
            item.textContent = problem;
            problems.appendChild(item);
          });
        });
      }, 150);
    });
  });
})();
