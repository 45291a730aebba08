// Progressive enhancement on an address opened from a search result (?hl=…): 上一处 and 下一处
// step from the occurrence at hand. Without JS they lead to the last and the first one.
document.addEventListener("click", function (event) {
  var link = event.target.closest(".hl-nav a[data-step]");
  if (!link) return;
  var count = document.querySelectorAll(".speech-body mark[id^='hl-']").length;
  var step = Number(link.getAttribute("data-step"));
  var at = /^#hl-(\d+)$/.exec(window.location.hash);
  var next = at ? Number(at[1]) + step : nearest(step, link.closest(".hl-nav"));
  if (next > count) next = 1;
  if (next < 1) next = count;
  // The link then does what it always does: go to that mark (it becomes the :target).
  link.setAttribute("href", "#hl-" + next);
});

// Not at an occurrence yet (say at a paragraph, #p5): the first one below the bar, or the last
// one above it; past either end, 0 or count + 1.
function nearest(step, bar) {
  var line = bar.getBoundingClientRect().bottom;
  var marks = document.querySelectorAll(".speech-body mark[id^='hl-']");
  var found = step > 0 ? marks.length + 1 : 0;
  for (var i = 0; i < marks.length; i++) {
    var top = marks[i].getBoundingClientRect().top;
    if (step > 0 && top > line) return i + 1;
    if (step < 0 && top < line) found = i + 1;
  }
  return found;
}
