// Progressive enhancement only: the page works fully without this file.
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.matches && box.matches("input[type=checkbox][data-autosubmit]") && box.form) {
    box.form.requestSubmit();
  }
});
