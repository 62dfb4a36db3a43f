package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// gatedRevisions is a Store whose GetStateMachineRevision, once armed,
// reads the revision and then holds it until release is closed: a resume
// slowed down between reading its machine and caching its parse.
type gatedRevisions struct {
	Store
	armed   atomic.Bool
	read    chan struct{} // closed when the armed read has read
	release chan struct{}
}

func (s *gatedRevisions) GetStateMachineRevision(ctx context.Context, arn string, rev int) (StateMachine, error) {
	sm, err := s.Store.GetStateMachineRevision(ctx, arn, rev)
	if s.armed.CompareAndSwap(true, false) {
		close(s.read)
		<-s.release
	}
	return sm, err
}

// A resume that read its machine's revision just before the machine was
// deleted and created again under the same name does not leave the old
// definition in the engine's cache of parsed revisions, where the new
// machine's executions, resumed from the store, would find it and run
// it. The deletion waits for such a resume to cache what it read, and
// then forgets it.
func TestResumeDuringDeletionLeavesNoStaleDefinition(t *testing.T) {
	ctx := context.Background()
	store := &gatedRevisions{Store: NewMemStore(), read: make(chan struct{}), release: make(chan struct{})}
	def := func(result string) string {
		return `{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"P"},"P":{"Type":"Pass","Result":"` + result + `","End":true}}}`
	}
	first := New(Options{Store: store, ResidentWindow: -1})
	sm, err := first.CreateStateMachine(ctx, "m", def("old"), "")
	if err != nil {
		t.Fatal(err)
	}
	old, err := first.StartExecution(ctx, sm.Arn, "old", `{}`)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	// A new engine on the same store resumes the old execution when its
	// wait ends, reading its revision through the gate.
	store.armed.Store(true)
	e := New(Options{Store: store, ResidentWindow: -1})
	defer e.Close()
	if _, err := e.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case <-store.read:
	case <-time.After(10 * time.Second):
		t.Fatal("the old execution was never resumed")
	}

	// Meanwhile the machine is deleted (the old execution stopped) and
	// created again with another definition, and a new execution starts.
	replaced := make(chan string, 1)
	var newArn string
	go func() {
		if err := e.DeleteStateMachine(ctx, sm.Arn); err != nil {
			replaced <- "DeleteStateMachine: " + err.Error()
			return
		}
		e.StopExecution(ctx, old.Arn, "", "") // it may have ended already
		// The deletion completes once the old execution has ended.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			_, err := e.CreateStateMachine(ctx, "m", def("new"), "")
			if err == nil {
				break
			}
			if !errors.Is(err, ErrStateMachineDeleting) || time.Now().After(deadline) {
				replaced <- "CreateStateMachine again: " + err.Error()
				return
			}
		}
		x, err := e.StartExecution(ctx, sm.Arn, "new", `{}`)
		if err != nil {
			replaced <- "StartExecution(new): " + err.Error()
			return
		}
		newArn = x.Arn
		replaced <- ""
	}()
	// The resume goes on once the machine is replaced, or once the
	// replacement has waited a while for it.
	var problem string
	select {
	case problem = <-replaced:
		close(store.release)
	case <-time.After(300 * time.Millisecond):
		close(store.release)
		problem = <-replaced
	}
	if problem != "" {
		t.Fatal(problem)
	}

	// The new execution resumes from the store after its wait: it runs
	// the new definition.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	x, err := e.Wait(wctx, newArn)
	if err != nil {
		t.Fatal(err)
	}
	if x.Status != StatusSucceeded || x.Output != `"new"` {
		t.Errorf("the new machine's execution ended %s with %s, want SUCCEEDED with \"new\"", x.Status, x.Output)
	}
}
