// Progressive enhancement only: the page works fully without this file.
document.documentElement.classList.add("js");
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.matches && box.matches("input[type=checkbox][data-autosubmit]") && box.form) {
    box.form.requestSubmit();
  }
});

// Autocomplete: indexed terms (Hanzi or pinyin prefix) and titles from /api/suggest.
(() => {
  const input = document.querySelector("input[data-suggest]");
  if (!input || !window.fetch) return;
  const list = document.createElement("ul");
  list.id = "suggest-list";
  list.className = "suggest-list";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");
  input.insertAdjacentElement("afterend", list);
  let items = [];
  let active = -1;
  let timer = 0;
  let seq = 0;

  const hide = () => {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
  };
  const choose = (item) => {
    hide();
    if (item.kind === "title" && item.id) {
      window.location.href = input.dataset.docUrl.replace("__ID__", encodeURIComponent(item.id));
      return;
    }
    input.value = item.text;
    input.form.requestSubmit();
  };
  const highlight = (index) => {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === index)));
  };
  const render = (suggestions) => {
    list.replaceChildren();
    items = suggestions;
    active = -1;
    suggestions.forEach((item, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.id = `suggest-${i}`;
      const text = document.createElement("span");
      text.textContent = item.text;
      const kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = item.kind === "title" ? "标题" : `${item.count} 篇`;
      li.append(text, kind);
      li.addEventListener("mousedown", (event) => {
        event.preventDefault();
        choose(item);
      });
      list.append(li);
    });
    list.hidden = suggestions.length === 0;
    input.setAttribute("aria-expanded", String(!list.hidden));
  };
  const fetchSuggestions = async () => {
    const q = input.value;
    const mine = ++seq;
    if (!q.trim()) return hide();
    try {
      const response = await fetch(`${input.dataset.suggest}?q=${encodeURIComponent(q)}`);
      const body = await response.json();
      if (mine === seq && body.ok) render(body.suggestions);
    } catch {
      hide();
    }
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(fetchSuggestions, 120);
  });
  input.addEventListener("keydown", (event) => {
    if (list.hidden) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      highlight((active + step + items.length) % items.length);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();
      choose(items[active]);
    } else if (event.key === "Escape") {
      hide();
    }
  });
  input.addEventListener("blur", () => setTimeout(hide, 150));
})();
