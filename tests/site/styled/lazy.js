// A lazy-loading script, as news sites use: it copies each image's data-src into src (at once, no timers).
document.querySelectorAll("img[data-src]").forEach(function (img) {
  img.src = img.getAttribute("data-src");
});
