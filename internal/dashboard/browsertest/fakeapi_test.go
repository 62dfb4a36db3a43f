package browsertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// fakeAPI implements the routes the dashboard calls, with scripted monitors
// whose state is a function of the time since they started: a check every
// interval, completing on check completeAfter (the simulated job of seed
// 002), unless terminated first.
type fakeAPI struct {
	mu       sync.Mutex
	monitors map[string]*fakeMonitor
	order    []string // creation order
	now      func() time.Time
	// GetExecutionHistory calls, all and newest-first ones, and how many
	// events each newest-first one answered with.
	historyCalls, reverseCalls int
	reverseEvents              []int
	// Reads of the list and of a monitor.
	listCalls, getCalls int
	// health is the /healthz answer; nil answers 404, as the API on AWS.
	health      map[string]any
	healthCalls int
	// down makes every API request fail as if the server were gone: the
	// connection closes without an answer. The page's files are still served.
	down bool
	// hang makes every API request wait, unanswered, until the client gives up.
	hang bool
	// emptyFirstPage answers a list without a token with no monitors and a
	// token to the monitors, as DynamoDB's list does when its read budget
	// runs out before it finds a match.
	emptyFirstPage bool
	// pageSize, when set, answers the list in pages of that many monitors;
	// the continuation token is the offset of the next page.
	pageSize int
	// listDelay holds every list answer that long, as a slow API does; the
	// read is counted in listCalls when it begins.
	listDelay time.Duration
	// getStatus, when set, answers every read of a monitor with that
	// status and an error message, as an API whose table fails does.
	getStatus int
}

type fakeMonitor struct {
	id            string
	jobID         string
	interval      time.Duration
	timeout       time.Duration
	completeAfter int
	created       time.Time
	terminatedAt  time.Time
	reason        string
	// spec, when set, is the monitor's spec in its execution's history,
	// secrets and all, as the state machine input carries it: in the
	// states' input and output and in the check's task parameters.
	spec map[string]any
	// purgeStatus, when set, is the answer to a purge, whatever the
	// monitor's state: the API refusing it.
	purgeStatus int
	// executionDeleted makes the Step Functions API answer
	// ExecutionDoesNotExist for the monitor's execution, as the local
	// runtime does once its retention period has deleted it.
	executionDeleted bool
	// generation, when above 0, is the execution the monitor continued as
	// new in at generationAt: its checks count from there, and its history
	// is that execution's only.
	generation   int
	generationAt time.Time
	// alertStatus and alertAttempts, when set, are the record's alert:
	// its last attempt's outcome and how many were made. A finished
	// monitor's output carries alertStatus as its alert_status.
	alertStatus   string
	alertAttempts int
	// alertRetryAt, when set, is when a failed alert is sent again: in
	// the record's alert while the monitor runs, as the API gives it.
	alertRetryAt time.Time
}

const checkDuration = 40 * time.Millisecond

func newFakeAPI() *fakeAPI {
	return &fakeAPI{monitors: map[string]*fakeMonitor{}, now: time.Now}
}

// add registers a monitor that started at created.
func (f *fakeAPI) add(m *fakeMonitor) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.monitors[m.id] = m
	f.order = append(f.order, m.id)
}

func (f *fakeAPI) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /monitors", f.gate(f.list))
	mux.HandleFunc("POST /monitors", f.gate(f.start))
	mux.HandleFunc("GET /monitors/{id}", f.gate(f.get))
	mux.HandleFunc("DELETE /monitors/{id}", f.gate(f.purge))
	mux.HandleFunc("POST /monitors/{id}/terminate", f.gate(f.terminate))
	mux.HandleFunc("POST /{$}", f.gate(f.stepFunctions))
	mux.HandleFunc("GET /healthz", f.gate(f.healthz))
}

// continueAsNew moves monitor id on to its next execution, begun at at.
func (f *fakeAPI) continueAsNew(id string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.monitors[id]
	m.generation++
	m.generationAt = at
}

// setDown makes the API fail (or work again) from now on.
// terminated reports whether monitor id was terminated through the API.
func (f *fakeAPI) terminated(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.monitors[id].terminatedAt.IsZero()
}

func (f *fakeAPI) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// setHang makes the API hold every request unanswered (or answer again)
// from now on.
func (f *fakeAPI) setHang(hang bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hang = hang
}

// gate serves h unless the API is down or hangs.
func (f *fakeAPI) gate(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		down, hang := f.down, f.hang
		f.mu.Unlock()
		if down {
			panic(http.ErrAbortHandler) // close the connection, answer nothing
		}
		if hang {
			<-r.Context().Done() // the client gave up, or the server shuts down
			return
		}
		h(w, r)
	}
}

func (f *fakeAPI) healthz(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healthCalls++
	if f.health == nil {
		http.NotFound(w, r)
		return
	}
	code := http.StatusOK
	if f.health["status"] == "degraded" {
		code = http.StatusServiceUnavailable // as stepmon serve answers it
	}
	writeJSON(w, code, f.health)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeAPI) start(w http.ResponseWriter, r *http.Request) {
	var req struct {
		JobID    string `json:"job_id"`
		Interval int    `json:"polling_interval_seconds"`
		Timeout  int    `json:"timeout_seconds"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.JobID == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "bad request"})
		return
	}
	f.mu.Lock()
	_, taken := f.monitors[req.JobID]
	f.mu.Unlock()
	if taken {
		writeJSON(w, http.StatusConflict, map[string]string{"message": "instance id taken"})
		return
	}
	if req.Interval <= 0 {
		req.Interval = 5
	}
	if req.Timeout <= 0 {
		req.Timeout = 30
	}
	f.add(&fakeMonitor{
		id: req.JobID, jobID: req.JobID, completeAfter: 4, created: f.now(),
		interval: time.Duration(req.Interval) * time.Second, timeout: time.Duration(req.Timeout) * time.Second,
	})
	w.Header().Set("Location", "/monitors/"+req.JobID)
	writeJSON(w, http.StatusAccepted, map[string]string{
		"id": req.JobID, "statusQueryGetUri": "/monitors/" + req.JobID,
		"terminatePostUri": "/monitors/" + req.JobID + "/terminate", "purgeHistoryDeleteUri": "/monitors/" + req.JobID,
	})
}

func (f *fakeAPI) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.listCalls++
	delay := f.listDelay
	f.mu.Unlock()
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	want := strings.Split(r.URL.Query().Get("runtimeStatus"), ",")
	now := f.now()
	recs := []map[string]any{}
	for _, id := range slices.Backward(f.order) {
		m, ok := f.monitors[id]
		if !ok {
			continue
		}
		rec := m.record(now)
		if want[0] != "" && !slices.Contains(want, rec["runtimeStatus"].(string)) {
			continue
		}
		recs = append(recs, rec)
	}
	if f.emptyFirstPage && r.URL.Query().Get("continuationToken") == "" {
		writeJSON(w, http.StatusOK, map[string]any{"monitors": []any{}, "continuationToken": "more"})
		return
	}
	out := map[string]any{"monitors": recs}
	if f.pageSize > 0 {
		from, _ := strconv.Atoi(r.URL.Query().Get("continuationToken"))
		from = min(from, len(recs))
		to := min(from+f.pageSize, len(recs))
		out["monitors"] = recs[from:to]
		if to < len(recs) {
			out["continuationToken"] = strconv.Itoa(to)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeAPI) get(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.getCalls++
	m, ok := f.monitors[r.PathValue("id")]
	failWith := f.getStatus
	f.mu.Unlock()
	if failWith != 0 {
		writeJSON(w, failWith, map[string]string{"message": "the status table is unavailable"})
		return
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "monitor not found"})
		return
	}
	rec := m.record(f.now())
	status := http.StatusAccepted
	if final(rec["runtimeStatus"].(string)) {
		status = http.StatusOK
	}
	writeJSON(w, status, rec)
}

func (f *fakeAPI) terminate(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.monitors[r.PathValue("id")]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "monitor not found"})
		return
	}
	now := f.now()
	if final(m.record(now)["runtimeStatus"].(string)) {
		writeJSON(w, http.StatusGone, map[string]string{"message": "monitor already finished"})
		return
	}
	m.terminatedAt = now
	m.reason = r.URL.Query().Get("reason")
	w.WriteHeader(http.StatusAccepted)
}

func (f *fakeAPI) purge(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.PathValue("id")
	m, ok := f.monitors[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "monitor not found"})
		return
	}
	if m.purgeStatus != 0 {
		writeJSON(w, m.purgeStatus, map[string]string{"message": fmt.Sprintf("monitor %q cannot be purged now", id)})
		return
	}
	if !final(m.record(f.now())["runtimeStatus"].(string)) {
		writeJSON(w, http.StatusConflict, map[string]string{"message": "monitor still running"})
		return
	}
	delete(f.monitors, id)
	writeJSON(w, http.StatusOK, map[string]string{"id": id})
}

// historyRequest is what the fake APIs read of a GetExecutionHistory
// request.
type historyRequest struct {
	ExecutionArn string `json:"executionArn"`
	MaxResults   int    `json:"maxResults"`
	ReverseOrder bool   `json:"reverseOrder"`
	NextToken    string `json:"nextToken"`
}

func (f *fakeAPI) stepFunctions(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "AWSStepFunctions.GetExecutionHistory" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"__type": "UnknownOperationException", "message": "unknown operation"})
		return
	}
	var req historyRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	f.mu.Lock()
	var m *fakeMonitor
	for _, c := range f.monitors {
		if c.arn() == req.ExecutionArn {
			m = c
		}
	}
	f.mu.Unlock()
	if m == nil || m.executionDeleted {
		writeJSON(w, http.StatusBadRequest, map[string]string{"__type": "com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist",
			"message": "Execution Does Not Exist: '" + req.ExecutionArn + "'"})
		return
	}
	evs := m.history(f.now())
	if req.ReverseOrder {
		slices.Reverse(evs)
	}
	f.mu.Lock()
	f.historyCalls++
	if req.ReverseOrder {
		f.reverseCalls++
	}
	f.mu.Unlock()
	// The token is the offset of the next page, as good as any opaque token.
	from, _ := strconv.Atoi(req.NextToken)
	if req.MaxResults <= 0 || req.MaxResults > 1000 {
		req.MaxResults = 1000
	}
	from = min(from, len(evs))
	to := min(from+req.MaxResults, len(evs))
	out := map[string]any{"events": evs[from:to]}
	if req.ReverseOrder {
		f.mu.Lock()
		f.reverseEvents = append(f.reverseEvents, to-from)
		f.mu.Unlock()
	}
	if to < len(evs) {
		out["nextToken"] = strconv.Itoa(to)
	}
	writeJSON(w, http.StatusOK, out)
}

func final(s string) bool { return s == "Completed" || s == "Failed" || s == "Terminated" }

func (m *fakeMonitor) arn() string {
	name := m.id
	if m.generation > 0 {
		name += fmt.Sprintf("-g0001-g%d", m.generation) // as monitor.ExecutionName names them
	}
	return "arn:aws:states:us-east-1:000000000000:execution:stepmon-monitor:" + name
}

// started is when the monitor's current execution began.
func (m *fakeMonitor) started() time.Time {
	if m.generation > 0 {
		return m.generationAt
	}
	return m.created
}

// checksDone is how many checks have finished by now, and whether the
// monitor ended by itself.
func (m *fakeMonitor) checksDone(now time.Time) (n int, done bool) {
	el := now.Sub(m.started())
	if el < checkDuration {
		return 0, false
	}
	n = int((el-checkDuration)/m.interval) + 1
	if n >= m.completeAfter {
		return m.completeAfter, true
	}
	return n, false
}

func (m *fakeMonitor) checkAt(k int) time.Time {
	return m.started().Add(time.Duration(k-1) * m.interval)
}

func (m *fakeMonitor) record(now time.Time) map[string]any {
	at := now
	if !m.terminatedAt.IsZero() {
		at = m.terminatedAt
	}
	n, done := m.checksDone(at)
	status, jobStatus := "Pending", "Running"
	updated := m.created
	if n > 0 {
		status = "Running"
		updated = m.checkAt(n).Add(checkDuration)
	}
	var output any
	next := m.checkAt(n + 1).UTC().Format(time.RFC3339)
	switch {
	case done:
		status, jobStatus, next = "Completed", "Completed", ""
		output = map[string]any{"job_id": m.jobID, "final_status": "Completed", "checks_performed": n,
			"monitoring_duration_seconds": int(updated.Sub(m.created).Seconds()), "detail": "the job completed"}
	case !m.terminatedAt.IsZero():
		status, next, updated = "Terminated", "", m.terminatedAt
		output = map[string]any{"job_id": m.jobID, "final_status": "Terminated", "checks_performed": n,
			"monitoring_duration_seconds": int(m.terminatedAt.Sub(m.created).Seconds()), "detail": m.reason}
	}
	custom := map[string]any{"job_id": m.jobID, "status": jobStatus, "check_count": n,
		"interval_seconds": int(m.interval.Seconds()), "detail": fmt.Sprintf("check %d of the simulated job", n)}
	if m.generation > 0 {
		custom["generation"] = m.generation
	}
	if n > 0 {
		custom["last_check_time"] = m.checkAt(n).UTC().Format(time.RFC3339Nano)
	}
	if next != "" {
		custom["next_check_time"] = next
	}
	rec := map[string]any{
		"name": "JobMonitor", "instanceId": m.id, "runtimeStatus": status,
		"input": map[string]any{"jobId": m.jobID, "target": map[string]any{"type": "simulated", "completeAfterChecks": m.completeAfter},
			"pollingIntervalSeconds": int(m.interval.Seconds()), "timeoutSeconds": int(m.timeout.Seconds())},
		"customStatus": custom, "output": output,
		"createdTime": m.created.UTC().Format(time.RFC3339Nano), "lastUpdatedTime": updated.UTC().Format(time.RFC3339Nano),
		"executionArn": m.arn(), "expiresAt": m.created.Add(m.timeout).UTC().Format(time.RFC3339),
	}
	if m.alertStatus != "" {
		alert := map[string]any{"status": m.alertStatus, "channel": "webhook", "attempts": m.alertAttempts}
		rec["alert"] = alert
		if out, ok := output.(map[string]any); ok {
			out["alert_status"] = m.alertStatus
		} else if !m.alertRetryAt.IsZero() {
			alert["retryAt"] = m.alertRetryAt.UTC().Format(time.RFC3339Nano)
		}
	}
	return rec
}

// history returns the execution's events up to now in the AWS shape, with
// epoch-second timestamps as the awsJson1_0 protocol sends them.
func (m *fakeMonitor) history(now time.Time) []map[string]any {
	var evs []map[string]any
	add := func(at time.Time, typ string, details map[string]any) bool {
		if at.After(now) || (!m.terminatedAt.IsZero() && at.After(m.terminatedAt)) {
			return false
		}
		e := map[string]any{"id": len(evs) + 1, "previousEventId": len(evs), "type": typ,
			"timestamp": float64(at.UnixMilli()) / 1000}
		if details != nil {
			key := map[bool]string{true: "stateEnteredEventDetails", false: "stateExitedEventDetails"}[strings.HasSuffix(typ, "Entered")]
			if strings.HasPrefix(typ, "Execution") || strings.HasPrefix(typ, "Task") && !strings.Contains(typ, "State") {
				key = strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
			}
			e[key] = details
		}
		evs = append(evs, e)
		return true
	}
	stateOf := func(k int, status string, next string) map[string]any {
		st := map[string]any{"instanceId": m.id, "check": map[string]any{"checkCount": k, "status": status, "nextCheckAt": next}}
		if m.spec != nil {
			st["spec"] = m.spec
		}
		if m.generation > 0 {
			st["generation"] = m.generation
		}
		return st
	}
	state := func(k int, status string, next string) string {
		b, _ := json.Marshal(stateOf(k, status, next))
		return string(b)
	}
	lambda := map[string]any{"resource": "invoke", "resourceType": "lambda"}
	scheduled := func(k int) map[string]any {
		if m.spec == nil {
			return lambda
		}
		b, _ := json.Marshal(map[string]any{"FunctionName": "stepmon-check", "Payload": map[string]any{"state": stateOf(k, "", "")}})
		return map[string]any{"resource": "invoke", "resourceType": "lambda", "parameters": string(b)}
	}
	succeeded := func(k int, status, next string) map[string]any {
		if m.spec == nil {
			return lambda
		}
		b, _ := json.Marshal(map[string]any{"StatusCode": 200, "Payload": stateOf(k, status, next)})
		return map[string]any{"resource": "invoke", "resourceType": "lambda", "output": string(b)}
	}
	if !add(m.started(), "ExecutionStarted", map[string]any{"input": state(0, "", ""), "roleArn": "arn:aws:iam::000000000000:role/stepmon"}) {
		return evs
	}
	for k := 1; k <= m.completeAfter; k++ {
		t := m.checkAt(k)
		next := m.checkAt(k + 1).UTC().Format(time.RFC3339)
		status := "Running"
		if k == m.completeAfter {
			status, next = "Completed", ""
		}
		if !add(t, "TaskStateEntered", map[string]any{"name": "Check", "input": state(k-1, "", "")}) ||
			!add(t, "TaskScheduled", scheduled(k-1)) || !add(t.Add(2*time.Millisecond), "TaskStarted", lambda) ||
			!add(t.Add(checkDuration), "TaskSucceeded", succeeded(k, status, next)) ||
			!add(t.Add(checkDuration), "TaskStateExited", map[string]any{"name": "Check", "output": state(k, status, next)}) ||
			!add(t.Add(checkDuration+time.Millisecond), "ChoiceStateEntered", map[string]any{"name": "Evaluate", "input": state(k, status, next)}) ||
			!add(t.Add(checkDuration+time.Millisecond), "ChoiceStateExited", map[string]any{"name": "Evaluate", "output": state(k, status, next)}) {
			break
		}
		if k == m.completeAfter {
			end := t.Add(checkDuration + 2*time.Millisecond)
			_ = add(end, "SucceedStateEntered", map[string]any{"name": "Finish", "input": state(k, status, "")}) &&
				add(end, "SucceedStateExited", map[string]any{"name": "Finish", "output": "{}"}) &&
				add(end, "ExecutionSucceeded", map[string]any{"output": `{"final_status":"Completed"}`})
			break
		}
		if !add(t.Add(checkDuration+2*time.Millisecond), "WaitStateEntered", map[string]any{"name": "Wait", "input": state(k, status, next)}) ||
			!add(m.checkAt(k+1), "WaitStateExited", map[string]any{"name": "Wait", "output": state(k, status, next)}) {
			break
		}
	}
	if !m.terminatedAt.IsZero() && !m.terminatedAt.After(now) {
		e := map[string]any{"id": len(evs) + 1, "previousEventId": len(evs), "type": "ExecutionAborted",
			"timestamp":                    float64(m.terminatedAt.UnixMilli()) / 1000,
			"executionAbortedEventDetails": map[string]any{"error": "States.Aborted", "cause": m.reason}}
		evs = append(evs, e)
	}
	return evs
}
