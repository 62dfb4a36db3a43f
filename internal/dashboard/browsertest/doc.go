// Package browsertest holds the dashboard's browser tests: headless
// Chromium, driven over the DevTools protocol, loads the page against a
// scripted API and against the local runtime.
package browsertest
