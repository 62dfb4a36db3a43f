// Package dashboard serves stepmon's web dashboard: a static page, embedded
// in the binary, that lists monitors, follows them live and draws the
// timeline of a monitor's checks and waits from its execution history.
//
// The page is plain HTML, CSS and JavaScript modules; there is no build
// step and nothing is fetched from other origins. It calls the monitors'
// HTTP API and the Step Functions API (GetExecutionHistory) on the origin
// that serves it, at paths relative to its own mount point: mounted at
// /ui/, it calls /monitors and POST /.
//
// Mount it behind http.StripPrefix:
//
//	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
package dashboard
