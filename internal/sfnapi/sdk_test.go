package sfnapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// disableHostPrefix stops the SDK from sending StartSyncExecution to
// "sync-" + the endpoint host, which does not resolve locally.
func disableHostPrefix(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("DisableHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		}), middleware.Before)
}

func newClient(url string) *sfn.Client {
	return sfn.New(sfn.Options{
		BaseEndpoint:     aws.String(url),
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "local", ""),
		APIOptions:       []func(*middleware.Stack) error{disableHostPrefix},
		RetryMaxAttempts: 1,
	})
}

// TestSDK drives every operation through the real aws-sdk-go-v2 client
// against the engine on SQLite.
func TestSDK(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient(srv.URL)
	ctx := context.Background()

	// State machines: create (idempotent), describe, list with paging, update.
	for _, name := range []string{"loop", "pass", "long", "fail"} {
		def := map[string]string{"loop": loopDef, "pass": passDef, "long": longWaitDef, "fail": failDef}[name]
		// StartSyncExecution runs loop and fail: EXPRESS machines.
		typ := map[string]types.StateMachineType{"loop": types.StateMachineTypeExpress, "fail": types.StateMachineTypeExpress}[name]
		out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role), Type: typ})
		if err != nil {
			t.Fatalf("CreateStateMachine(%s): %v", name, err)
		}
		if got := aws.ToString(out.StateMachineArn); got != smArn+name || out.CreationDate == nil || time.Since(*out.CreationDate) > time.Minute {
			t.Errorf("CreateStateMachine(%s) = %s created %v", name, got, out.CreationDate)
		}
	}
	again, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("pass"), Definition: aws.String(passDef), RoleArn: aws.String(role)})
	if err != nil || aws.ToString(again.StateMachineArn) != smArn+"pass" {
		t.Errorf("CreateStateMachine(identical) = %v, %v; want the existing machine", again, err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("pass"), Definition: aws.String(failDef), RoleArn: aws.String(role)})
	var exists *types.StateMachineAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("CreateStateMachine(other definition) error = %v, want StateMachineAlreadyExists", err)
	}
	var names []string
	var tok *string
	for range 10 {
		out, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{MaxResults: 3, NextToken: tok})
		if err != nil {
			t.Fatalf("ListStateMachines: %v", err)
		}
		for _, sm := range out.StateMachines {
			names = append(names, aws.ToString(sm.Name))
		}
		if tok = out.NextToken; tok == nil {
			break
		}
	}
	if got := fmt.Sprint(names); got != "[fail long loop pass]" { // name order, as AWS lists them
		t.Errorf("ListStateMachines paged = %s, want [fail long loop pass]", got)
	}
	desc, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(smArn + "loop")})
	if err != nil || aws.ToString(desc.Definition) != loopDef || desc.Type != types.StateMachineTypeExpress || desc.Status != types.StateMachineStatusActive {
		t.Errorf("DescribeStateMachine = %+v, %v", desc, err)
	}
	upd, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(smArn + "fail"), Definition: aws.String(strings.Replace(failDef, "Oops", "Oops2", 1))})
	if err != nil || upd.UpdateDate == nil || aws.ToString(upd.RevisionId) != "2" {
		t.Errorf("UpdateStateMachine = %+v, %v; want revision 2", upd, err)
	}

	// StartSyncExecution runs Pass, Choice and a one-second Wait to the end.
	start := time.Now()
	sync, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(smArn + "loop"),
		Name: aws.String("sync1"), Input: aws.String(`{"n":0,"max":2}`)})
	if err != nil {
		t.Fatalf("StartSyncExecution: %v", err)
	}
	if sync.Status != types.SyncExecutionStatusSucceeded || !jsonEqual(aws.ToString(sync.Output), `{"n":2,"max":2}`) || sync.StartDate == nil || sync.StopDate == nil {
		t.Fatalf("StartSyncExecution = status %s output %s start %v stop %v", sync.Status, aws.ToString(sync.Output), sync.StartDate, sync.StopDate)
	}
	if sync.StopDate.Sub(*sync.StartDate) < time.Second {
		t.Errorf("StartSyncExecution ran from %v to %v, less than its one-second Wait", *sync.StartDate, *sync.StopDate)
	}
	failed, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: aws.String(smArn + "fail")})
	if err != nil || failed.Status != types.SyncExecutionStatusFailed || aws.ToString(failed.Error) != "Oops2" || aws.ToString(failed.Cause) != "on purpose" {
		t.Errorf("StartSyncExecution(fail) = %+v, %v; want FAILED Oops2 on purpose", failed, err)
	}

	// History of the sync execution: all at once, paged, reversed.
	arn := aws.ToString(sync.ExecutionArn)
	all, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
	if err != nil {
		t.Fatalf("GetExecutionHistory: %v", err)
	}
	var types1 []string
	for _, ev := range all.Events {
		types1 = append(types1, string(ev.Type))
	}
	want := "ExecutionStarted PassStateEntered PassStateExited ChoiceStateEntered ChoiceStateExited WaitStateEntered WaitStateExited " +
		"PassStateEntered PassStateExited ChoiceStateEntered ChoiceStateExited SucceedStateEntered SucceedStateExited ExecutionSucceeded"
	if got := strings.Join(types1, " "); got != want {
		t.Errorf("history types =\n  %s\nwant\n  %s", got, want)
	}
	if all.NextToken != nil {
		t.Errorf("GetExecutionHistory(all) nextToken = %q, want none", aws.ToString(all.NextToken))
	}
	if d := all.Events[1].StateEnteredEventDetails; d == nil || aws.ToString(d.Name) != "Inc" || !jsonEqual(aws.ToString(d.Input), `{"n":0,"max":2}`) {
		t.Errorf("event 2 details = %s, want Inc entered with the input", jsonText(d))
	}
	for _, rev := range []bool{false, true} {
		var ids []int64
		tok = nil
		for range 20 {
			out, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 4, ReverseOrder: rev, NextToken: tok})
			if err != nil {
				t.Fatalf("GetExecutionHistory(reverse %v): %v", rev, err)
			}
			if len(out.Events) > 4 {
				t.Fatalf("page of %d events, want at most 4", len(out.Events))
			}
			for _, ev := range out.Events {
				ids = append(ids, ev.Id)
			}
			if tok = out.NextToken; tok == nil {
				break
			}
		}
		if len(ids) != len(all.Events) {
			t.Fatalf("paged history (reverse %v) has %d events, want %d", rev, len(ids), len(all.Events))
		}
		for i, id := range ids {
			want := all.Events[i].Id
			if rev {
				want = all.Events[len(ids)-1-i].Id
			}
			if id != want {
				t.Errorf("paged history (reverse %v)[%d] = id %d, want %d", rev, i, id, want)
			}
		}
	}
	for i, ev := range all.Events {
		if ev.Id != int64(i+1) {
			t.Errorf("event %d has id %d, want ids 1, 2, 3, ...", i, ev.Id)
		}
		if ev.Timestamp == nil || ev.Timestamp.Before(start.Add(-time.Second)) || ev.Timestamp.After(time.Now()) {
			t.Errorf("event %d timestamp %v, want after %v", ev.Id, ev.Timestamp, start)
		}
	}

	// Asynchronous executions: start, describe, list with a filter, stop.
	st, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn + "long"), Name: aws.String("long1"), Input: aws.String(`{}`)})
	if err != nil || aws.ToString(st.ExecutionArn) != execArn+"long:long1" {
		t.Fatalf("StartExecution = %+v, %v", st, err)
	}
	same, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn + "long"), Name: aws.String("long1"), Input: aws.String(`{}`)})
	if err != nil || aws.ToString(same.ExecutionArn) != execArn+"long:long1" {
		t.Errorf("StartExecution(same name and input) = %+v, %v; want the running execution", same, err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn + "long"), Name: aws.String("long1"), Input: aws.String(`{"x":1}`)})
	var execExists *types.ExecutionAlreadyExists
	if !errors.As(err, &execExists) {
		t.Errorf("StartExecution(same name, other input) error = %v, want ExecutionAlreadyExists", err)
	}
	if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(smArn + "long"), Name: aws.String("p1")}); err != nil {
		t.Fatalf("StartExecution(p1): %v", err)
	}
	de, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: st.ExecutionArn})
	if err != nil || de.Status != types.ExecutionStatusRunning || de.StopDate != nil || aws.ToString(de.Input) != `{}` {
		t.Errorf("DescribeExecution(running) = %+v, %v", de, err)
	}
	stop, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: st.ExecutionArn, Error: aws.String("Manual"), Cause: aws.String("test")})
	if err != nil || stop.StopDate == nil {
		t.Fatalf("StopExecution = %+v, %v", stop, err)
	}
	de, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: st.ExecutionArn})
	if err != nil || de.Status != types.ExecutionStatusAborted || aws.ToString(de.Error) != "Manual" || aws.ToString(de.Cause) != "test" || de.StopDate == nil {
		t.Errorf("DescribeExecution(stopped) = %+v, %v; want ABORTED Manual test", de, err)
	}
	stop2, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: st.ExecutionArn})
	if err != nil || !stop2.StopDate.Equal(*stop.StopDate) {
		t.Errorf("StopExecution(again) = %+v, %v; want the first stop date %v", stop2, err, stop.StopDate)
	}
	list := func(arn string, status types.ExecutionStatus) []string {
		var names []string
		var tok *string
		for range 10 {
			out, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(arn), StatusFilter: status, MaxResults: 1, NextToken: tok})
			if err != nil {
				t.Fatalf("ListExecutions: %v", err)
			}
			for _, x := range out.Executions {
				names = append(names, aws.ToString(x.Name)+":"+string(x.Status))
			}
			if tok = out.NextToken; tok == nil {
				break
			}
		}
		return names
	}
	if got := fmt.Sprint(list(smArn+"long", "")); !strings.HasPrefix(got, "[p1:RUNNING long1:ABORTED") {
		t.Errorf("ListExecutions(long) = %s, want p1 RUNNING then long1 ABORTED (newest first)", got)
	}
	if got := fmt.Sprint(list(smArn+"long", types.ExecutionStatusAborted)); got != "[long1:ABORTED]" {
		t.Errorf("ListExecutions(long, ABORTED) = %s", got)
	}
	if got := fmt.Sprint(list(smArn+"loop", types.ExecutionStatusSucceeded)); got != "[sync1:SUCCEEDED]" {
		t.Errorf("ListExecutions(loop, SUCCEEDED) = %s", got)
	}
	dsm, err := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: st.ExecutionArn})
	if err != nil || aws.ToString(dsm.StateMachineArn) != smArn+"long" || aws.ToString(dsm.Definition) != longWaitDef {
		t.Errorf("DescribeStateMachineForExecution = %+v, %v", dsm, err)
	}

	// Typed errors.
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(execArn + "long:nope")})
	var noExec *types.ExecutionDoesNotExist
	if !errors.As(err, &noExec) {
		t.Errorf("DescribeExecution(missing) error = %v, want ExecutionDoesNotExist", err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:nope")})
	var badArn *types.InvalidArn
	if !errors.As(err, &badArn) {
		t.Errorf("DescribeStateMachine(bad arn) error = %v, want InvalidArn", err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), Definition: aws.String(`{"StartAt":"X","States":{}}`), RoleArn: aws.String(role)})
	var badDef *types.InvalidDefinition
	if !errors.As(err, &badDef) {
		t.Errorf("CreateStateMachine(invalid) error = %v, want InvalidDefinition", err)
	}
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(smArn + "long"), MaxResults: 5000})
	var validation *types.ValidationException
	if !errors.As(err, &validation) {
		t.Errorf("ListExecutions(maxResults 5000) error = %v, want ValidationException", err)
	}
}

// TestSDKTags drives TagResource, UntagResource and ListTagsForResource
// through the aws-sdk-go-v2 client, with the typed errors of each
// (ResourceNotFound, InvalidArn, TooManyTags with its resourceName).
func TestSDKTags(t *testing.T) {
	srv, _ := newServer(t)
	c := newClient(srv.URL)
	ctx := context.Background()
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	out, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("sm"), Definition: aws.String(passDef),
		RoleArn: aws.String(role), Tags: []types.Tag{tag("env", "dev")}})
	if err != nil {
		t.Fatalf("CreateStateMachine: %v", err)
	}
	arn := out.StateMachineArn
	if _, err := c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: arn, Tags: []types.Tag{tag("team", "a"), tag("Env", "prod"), tag("env", "test")}}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	if _, err := c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team", "missing"}}); err != nil {
		t.Fatalf("UntagResource: %v", err)
	}
	list, err := c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatalf("ListTagsForResource: %v", err)
	}
	var got []string
	for _, tg := range list.Tags {
		got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if want := "Env=prod env=test"; strings.Join(got, " ") != want {
		t.Errorf("ListTagsForResource = %v, want %s", got, want)
	}

	_, err = c.ListTagsForResource(ctx, &sfn.ListTagsForResourceInput{ResourceArn: aws.String(smArn + "nope")})
	var notFound *types.ResourceNotFound
	if !errors.As(err, &notFound) || aws.ToString(notFound.Message) != "Resource not found: '"+smArn+"nope'" {
		t.Errorf("ListTagsForResource(unknown machine) error = %v, want ResourceNotFound", err)
	}
	_, err = c.UntagResource(ctx, &sfn.UntagResourceInput{ResourceArn: aws.String(execArn + "sm:x"), TagKeys: []string{"k"}})
	var badArn *types.InvalidArn
	if !errors.As(err, &badArn) {
		t.Errorf("UntagResource(execution) error = %v, want InvalidArn", err)
	}
	many := make([]types.Tag, 49)
	for i := range many {
		many[i] = tag(fmt.Sprintf("k%d", i), "v")
	}
	_, err = c.TagResource(ctx, &sfn.TagResourceInput{ResourceArn: arn, Tags: many})
	var tooMany *types.TooManyTags
	if !errors.As(err, &tooMany) || aws.ToString(tooMany.ResourceName) != aws.ToString(arn) {
		t.Errorf("TagResource(51 tags in all) error = %v, want TooManyTags naming %s", err, aws.ToString(arn))
	}
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
