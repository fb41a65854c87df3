// GraphiQL for followups: the bearer token comes from the link `make run` prints
// (#token=...), from this browser's storage, or from the form; the schema loads with it.
(function () {
  "use strict";
  var KEY = "followups.token";
  var url = window.location.origin + window.location.pathname;
  var root = null;

  function tokenFromFragment() {
    var match = /(?:^|&)token=([^&]+)/.exec(window.location.hash.slice(1));
    if (!match) return null;
    history.replaceState(null, "", window.location.pathname + window.location.search);
    return decodeURIComponent(match[1]);
  }

  function showForm(refused) {
    document.getElementById("graphiql").hidden = true;
    document.getElementById("token-error").hidden = !refused;
    document.getElementById("token-form").hidden = false;
    document.getElementById("token-input").focus();
  }

  function start(token) {
    localStorage.setItem(KEY, token);
    var fetcher = GraphiQL.createFetcher({
      url: url,
      headers: { Authorization: "Bearer " + token },
      fetch: function (input, init) {
        return window.fetch(input, init).then(function (response) {
          if (response.status === 401) {
            localStorage.removeItem(KEY);
            showForm(true);
          }
          return response;
        });
      },
    });
    var explorer = GraphiQLPluginExplorer.explorerPlugin();
    var element = document.getElementById("graphiql");
    document.getElementById("token-form").hidden = true;
    element.hidden = false;
    if (root) root.unmount();
    root = ReactDOM.createRoot(element);
    root.render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
      }),
    );
  }

  document.getElementById("token-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var token = document.getElementById("token-input").value.trim();
    if (token) start(token);
  });

  var token = tokenFromFragment() || localStorage.getItem(KEY);
  if (token) start(token);
  else showForm(false);
})();
