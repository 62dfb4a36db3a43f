package local

import (
	"net/http"

	"github.com/stepmon/stepmon/internal/sfnapi"
)

// stepFunctionsAPI returns the Step Functions API (awsJson1_0) handler
// over the engine.
func (r *Runtime) stepFunctionsAPI() http.Handler {
	return sfnapi.NewHandler(sfnapi.NewEngineBackend(r.engine), r.log.With("component", "sfnapi"))
}
