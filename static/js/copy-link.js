// Progressive enhancement: the ¶ links work as plain anchors; with JS they also copy the URL.
document.addEventListener("click", function (event) {
  var link = event.target.closest("a[data-copy]");
  if (!link || !navigator.clipboard) return;
  var url = new URL(link.getAttribute("href"), window.location.href).href;
  navigator.clipboard.writeText(url).then(function () {
    link.classList.add("copied");
    link.setAttribute("title", "已复制链接");
  });
});
