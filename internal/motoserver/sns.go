package motoserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Notifications is an HTTP endpoint on loopback subscribed to an SNS
// topic on moto: it keeps the notifications moto posts to it.
type Notifications struct {
	*httptest.Server
	mu  sync.Mutex
	got []map[string]any
}

// SubscribedTopic creates the topic name through client (a client of a
// moto server) with an HTTP subscription that keeps its notifications,
// and returns the topic's ARN and the subscription's endpoint, which
// t.Cleanup closes.
func SubscribedTopic(t testing.TB, client *sns.Client, name string) (string, *Notifications) {
	t.Helper()
	ctx := context.Background()
	topic, err := client.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	n := &Notifications{}
	n.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(body, &m) == nil && m["Type"] == "Notification" {
			n.mu.Lock()
			n.got = append(n.got, m)
			n.mu.Unlock()
		}
	}))
	t.Cleanup(n.Close)
	if _, err := client.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(n.URL)}); err != nil {
		t.Fatal(err)
	}
	return *topic.TopicArn, n
}

// List returns the notifications received so far, each as moto posted
// it (Type, MessageId, TopicArn, Subject, Message, MessageAttributes...).
func (n *Notifications) List() []map[string]any {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.got)
}
