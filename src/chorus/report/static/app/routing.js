// The hash router: each path to its view; the page marks itself ready for tests.
  // ---- routing --------------------------------------------------------------------------
  function route(path, params) {
    const q = new URLSearchParams(Object.entries(params || {}).filter(([, v]) => v !== "" && v !== null && v !== undefined));
    location.hash = path + (q.toString() ? "?" + q : "");
  }
  async function render() {
    const [path, query] = (location.hash.slice(1) || "/").split("?");
    const params = Object.fromEntries(new URLSearchParams(query || ""));
    const parts = path.split("/").filter(Boolean);
    const arg = parts.slice(1).map(decodeURIComponent).join("/");
    let view;
    try {
      switch (parts[0]) {
        case undefined: view = await viewOverview(); break;
        case "points": view = await viewPoints(params); break;
        case "point": view = await viewPoint(arg, params); break;
        case "reuse": view = await viewReuse(arg || "reuse", params); break;
        case "cluster": view = await viewCluster(arg); break;
        case "document": view = await viewDocument(arg); break;
        case "network": view = await viewNetwork(); break;
        case "sources": view = await viewSources(params); break;
        case "source": view = await viewSource(arg); break;
        case "search": view = await viewSearch(params); break;
        case "watchlists": view = await viewWatchlists(); break;
        case "changes": view = await viewChanges(params); break;
        default: view = notFound("page", path);
      }
    } catch (err) {
      view = [h("h2", {}, "Something went wrong"), h("p", {}, String(err))];
    }
    main.replaceChildren(...[view].flat(Infinity).filter(Boolean));
    document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("here", a.getAttribute("href") === "#/" + (parts[0] || "")));
    main.dataset.ready = "true";
  }
  window.addEventListener("hashchange", render);
  render();
