package local

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/stepmon/stepmon/internal/engine"
)

// stepFunctionsAPI returns the Step Functions API handler over the engine.
//
// HOOK: internal/sfnapi (the full awsJson1_0 API) is not in the tree yet;
// until it lands this serves the operations the start and status functions
// need (StartExecution, DescribeExecution, StopExecution).
func (r *Runtime) stepFunctionsAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		target := req.Header.Get("X-Amz-Target")
		op, ok := strings.CutPrefix(target, "AWSStepFunctions.")
		if !ok {
			sfnError(w, http.StatusBadRequest, "UnknownOperationException", "missing or unknown X-Amz-Target")
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 1<<20))
		if err != nil {
			sfnError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		var in struct {
			StateMachineArn string `json:"stateMachineArn"`
			ExecutionArn    string `json:"executionArn"`
			Name            string `json:"name"`
			Input           string `json:"input"`
			Error           string `json:"error"`
			Cause           string `json:"cause"`
		}
		if err := json.Unmarshal(b, &in); err != nil {
			sfnError(w, http.StatusBadRequest, "SerializationException", err.Error())
			return
		}
		ctx := req.Context()
		switch op {
		case "StartExecution":
			x, err := r.engine.StartExecution(ctx, in.StateMachineArn, in.Name, in.Input)
			if err != nil {
				sfnEngineError(w, err)
				return
			}
			sfnJSON(w, map[string]any{"executionArn": x.Arn, "startDate": float64(x.StartDate.UnixMilli()) / 1000})
		case "DescribeExecution":
			x, err := r.engine.DescribeExecution(ctx, in.ExecutionArn)
			if err != nil {
				sfnEngineError(w, err)
				return
			}
			out := map[string]any{"executionArn": x.Arn, "stateMachineArn": x.StateMachineArn, "name": x.Name,
				"status": x.Status, "startDate": float64(x.StartDate.UnixMilli()) / 1000, "input": x.Input}
			if x.Status != engine.StatusRunning {
				out["stopDate"] = float64(x.StopDate.UnixMilli()) / 1000
			}
			sfnJSON(w, out)
		case "StopExecution":
			x, err := r.engine.StopExecution(ctx, in.ExecutionArn, in.Error, in.Cause)
			if err != nil {
				sfnEngineError(w, err)
				return
			}
			sfnJSON(w, map[string]any{"stopDate": float64(x.StopDate.UnixMilli()) / 1000})
		default:
			sfnError(w, http.StatusNotImplemented, "UnknownOperationException", op+" is not supported by this build")
		}
	})
}

func sfnEngineError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, engine.ErrExecutionAlreadyExists):
		sfnError(w, http.StatusBadRequest, "ExecutionAlreadyExists", err.Error())
	case errors.Is(err, engine.ErrExecutionDoesNotExist), errors.Is(err, engine.ErrExecutionNotRunning):
		sfnError(w, http.StatusBadRequest, "ExecutionDoesNotExist", err.Error())
	case errors.Is(err, engine.ErrStateMachineDoesNotExist):
		sfnError(w, http.StatusBadRequest, "StateMachineDoesNotExist", err.Error())
	default:
		sfnError(w, http.StatusInternalServerError, "InternalServerError", err.Error())
	}
}

func sfnJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Write(marshal(v))
}

func sfnError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", typ)
	w.WriteHeader(status)
	w.Write(marshal(map[string]string{"__type": "com.amazonaws.swf.service.v2.model#" + typ, "message": msg}))
}
