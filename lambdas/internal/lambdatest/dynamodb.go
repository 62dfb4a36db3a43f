package lambdatest

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/stepmon/stepmon/internal/dynamostore"
	"github.com/stepmon/stepmon/internal/motoserver"
	"github.com/stepmon/stepmon/internal/testtool"
)

// TableName is the table NewDynamoDB creates.
const TableName = "stepmon"

// DynamoDB is a moto_server with the functions' table, for tests that
// observe what a function calls on it.
type DynamoDB struct {
	// Endpoint is the server's, for the clients of its other services.
	Endpoint string
	// Client reaches the server directly, without recording: for setting
	// up the records a test needs.
	Client *dynamodb.Client
}

// NewDynamoDB starts moto_server (motoserver.Start: the test is skipped
// when it is not installed, or fails under CI=true), creates TableName as
// the stack defines it, and points the AWS SDK's configuration (region,
// fake credentials) at the server.
func NewDynamoDB(t *testing.T) *DynamoDB {
	t.Helper()
	endpoint := motoserver.Start(t)
	client := dynamodb.NewFromConfig(motoserver.Config(endpoint))
	if err := dynamostore.CreateTable(t.Context(), client, TableName); err != nil {
		t.Fatal(err)
	}
	FakeAWS(t, motoserver.Region)
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	return &DynamoDB{Endpoint: endpoint, Client: client}
}

// Store is a store over the table that reaches the server directly.
func (d *DynamoDB) Store() *dynamostore.Store {
	return dynamostore.New(d.Client, TableName)
}

// Operations records the DynamoDB actions that requests sent through it
// ask for: "dynamodb:GetItem" on the table, "dynamodb:Query" on an index.
type Operations struct {
	mu             sync.Mutex
	table, indexes map[string]bool
}

// Record starts a proxy to d's server that records every DynamoDB request
// it forwards, and points the SDK's DynamoDB endpoint
// (AWS_ENDPOINT_URL_DYNAMODB) at it: the clients a function builds after
// Record send their requests through it.
func (d *DynamoDB) Record(t *testing.T) *Operations {
	t.Helper()
	target, err := url.Parse(d.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ops := &Operations{table: map[string]bool{}, indexes: map[string]bool{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ops.add(r.Header.Get("X-Amz-Target"), body)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", srv.URL)
	return ops
}

// add records the request whose X-Amz-Target is target
// ("DynamoDB_20120810.GetItem") and whose body is body.
func (o *Operations) add(target string, body []byte) {
	_, op, ok := strings.Cut(target, ".")
	if !ok {
		op = "unknown request " + target
	}
	var in struct{ IndexName string }
	_ = json.Unmarshal(body, &in)
	o.mu.Lock()
	defer o.mu.Unlock()
	if in.IndexName != "" {
		o.indexes["dynamodb:"+op] = true
	} else {
		o.table["dynamodb:"+op] = true
	}
}

// WantGranted fails t unless the DynamoDB actions recorded by ops are the
// ones infra/stack.go grants the function fn (TableActions on the table,
// IndexActions on the list index): an action the code calls but the role
// lacks would be refused on AWS; an action granted that the scenarios never
// called is either a grant to drop or a path the test must drive.
func WantGranted(t *testing.T, fn string, ops *Operations) {
	t.Helper()
	ops.mu.Lock()
	defer ops.mu.Unlock()
	for _, c := range []struct {
		on, name string
		called   map[string]bool
	}{
		{"the table", "TableActions", ops.table},
		{"an index", "IndexActions", ops.indexes},
	} {
		granted := testtool.InfraActions(t, c.name)[fn]
		called := slices.Sorted(maps.Keys(c.called))
		for _, a := range called {
			if !slices.Contains(granted, a) {
				t.Errorf("the %s function calls %s on %s, which infra/stack.go %s[%q] = %q does not grant", fn, a, c.on, c.name, fn, granted)
			}
		}
		for _, a := range granted {
			if !c.called[a] {
				t.Errorf("infra/stack.go %s[%q] grants %s, which the %s function was not seen calling on %s (called: %q)", c.name, fn, a, fn, c.on, called)
			}
		}
	}
}
