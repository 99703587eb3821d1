// Small keyboard helpers for the case form; the page works without them.
document.addEventListener("keydown", function (event) {
  if ((event.ctrlKey || event.metaKey) && event.key === "s") {
    var form = document.getElementById("case-form");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  }
});
document.addEventListener("DOMContentLoaded", function () {
  // Focus the first field with a problem, so Tab continues from there.
  var bad = document.querySelector(".field.invalid input, .field.invalid select");
  if (bad && document.getElementById("flash")) { bad.focus({preventScroll: false}); }
});
