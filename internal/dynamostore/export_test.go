package dynamostore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetListReadBudget sets how many index items one List call of s may
// read when it filters by status; 0 means listReadBudget.
func SetListReadBudget(s *Store, n int) { s.listBudget = n }

// PatchOutput runs the second write of Finish and CompleteAlert that
// sets the output's alert_status of item, the record as their first
// write left it, to status.
func PatchOutput(ctx context.Context, s *Store, id string, item map[string]types.AttributeValue, status string) error {
	return s.patchOutput(ctx, "dynamostore: patch output", id, item, status)
}

// DropNextCheck runs the second write of Finish that removes the
// next_check_time of item's custom status, item the record as Finish's
// first write left it.
func DropNextCheck(ctx context.Context, s *Store, id string, item map[string]types.AttributeValue) error {
	return s.dropNextCheck(ctx, "dynamostore: drop next check", id, item)
}

// ShardOf returns the list index partition of the record id.
func ShardOf(id string) int { return shardOf(id) }
