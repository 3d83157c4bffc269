// Cascading province → city → county picker; fills each level from /admin/regions/children.
(function () {
  function fill(select, items, placeholder) {
    select.innerHTML = "";
    var empty = document.createElement("option");
    empty.value = ""; empty.textContent = placeholder;
    select.appendChild(empty);
    items.forEach(function (item) {
      var option = document.createElement("option");
      option.value = item.code; option.textContent = item.name;
      select.appendChild(option);
    });
  }
  function load(url, parent, select, keep) {
    var placeholder = select.options.length ? select.options[0].textContent : "";
    return fetch(url + (parent ? "?parent=" + encodeURIComponent(parent) : ""), {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (items) { fill(select, items, placeholder); if (keep) { select.value = keep; } });
  }
  document.querySelectorAll(".region-picker").forEach(function (picker) {
    var url = picker.dataset.url;
    var selects = picker.querySelectorAll("select.region-level");
    var hidden = picker.querySelector("input[type=hidden]");
    var chosen = Array.prototype.map.call(selects, function (s) { return s.value; });
    load(url, "", selects[0], chosen[0]).then(function () {
      if (chosen[0]) { return load(url, chosen[0], selects[1], chosen[1]); }
    }).then(function () {
      if (chosen[1]) { return load(url, chosen[1], selects[2], chosen[2]); }
    });
    selects.forEach(function (select, index) {
      select.addEventListener("change", function () {
        for (var i = index + 1; i < selects.length; i++) { fill(selects[i], [], selects[i].options[0].textContent); }
        var value = select.value;
        if (!value && index > 0) { value = selects[index - 1].value; }
        hidden.value = value;
        if (select.value && index + 1 < selects.length) { load(url, select.value, selects[index + 1]); }
      });
    });
  });
})();
