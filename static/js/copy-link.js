// Progressive enhancement: the ¶ links work as plain anchors and the citation is text to select;
// with a clipboard, a ¶ also copies its paragraph's URL, and the citation's button (hidden until
// then) copies the citation and says so in its status line.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-copy]");
  if (!link || !navigator.clipboard) return;
  var url = new URL(link.getAttribute("href"), window.location.href).href;
  navigator.clipboard.writeText(url).then(function () {
    link.classList.add("copied");
    link.setAttribute("title", document.body.dataset.linkCopied);
  });
});

document.querySelectorAll("button[data-copy-from]").forEach(function (button) {
  if (!navigator.clipboard) return;
  var source = document.getElementById(button.dataset.copyFrom);
  var status = button.parentElement.querySelector(".copy-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.clipboard.writeText(source.textContent.trim()).then(
      function () { status.textContent = button.dataset.copied; },
      function () { status.textContent = button.dataset.failed; }
    );
  });
});
