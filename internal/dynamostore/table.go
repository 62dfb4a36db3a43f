package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the table a Store needs, as the CDK stack defines
// it: partition key pk (S), sort key sk (S), on-demand billing, the GSI
// IndexName on gsi1pk (S) / gsi1sk (S) projecting ListAttributes, and TTL
// on the attribute ttl. It waits until the table is active. A table of
// that name that exists already is left as it is, except that the GSI is
// added when it lacks it (a table of an earlier version, whose list index
// was byCreated), CreateTable then waiting until the GSI is active, and
// that TTL is turned on when it is off (a first run stopped before it
// turned it on); TTL on another attribute is an error. Tests and the
// local runtime's DynamoDB mode use it; on AWS the stack creates the
// table.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attributeDefinitions(),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: ptr(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: ptr(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName:  ptr(IndexName),
			KeySchema:  listIndexKeys(),
			Projection: listIndexProjection(),
		}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		if err := addListIndex(ctx, client, name); err != nil {
			return err
		}
		return enableTTL(ctx, client, name)
	}
	if err != nil {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 2 * time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, 2*time.Minute); err != nil {
		return fmt.Errorf("dynamostore: create table %s: waiting until active: %w", name, err)
	}
	return enableTTL(ctx, client, name)
}

// enableTTL turns TTL on, on the attribute ttl, unless the table has it on
// (or being turned on) already. Of two processes turning it on at once,
// the one DynamoDB refuses finds it on. TTL on another attribute is an
// error naming it: DynamoDB allows one TTL attribute per table, and
// records would never be purged.
func enableTTL(ctx context.Context, client *dynamodb.Client, name string) error {
	const op = "dynamostore: enable TTL on"
	on := func() (bool, error) {
		out, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
		if err != nil {
			return false, err
		}
		d := out.TimeToLiveDescription
		if d == nil || (d.TimeToLiveStatus != types.TimeToLiveStatusEnabled && d.TimeToLiveStatus != types.TimeToLiveStatusEnabling) {
			return false, nil
		}
		if attr := aws.ToString(d.AttributeName); attr != attrTTL {
			return false, fmt.Errorf("TTL is on attribute %s, want %s", attr, attrTTL)
		}
		return true, nil
	}
	ok, err := on()
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	if ok {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: ptr(attrTTL), Enabled: ptr(true)},
	})
	if err != nil {
		if ok, derr := on(); derr == nil && ok {
			return nil
		}
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	return nil
}

func attributeDefinitions() []types.AttributeDefinition {
	s := types.ScalarAttributeTypeS
	return []types.AttributeDefinition{
		{AttributeName: ptr(attrPK), AttributeType: s},
		{AttributeName: ptr(attrSK), AttributeType: s},
		{AttributeName: ptr(attrGSIPK), AttributeType: s},
		{AttributeName: ptr(attrGSISK), AttributeType: s},
	}
}

func listIndexKeys() []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: ptr(attrGSIPK), KeyType: types.KeyTypeHash},
		{AttributeName: ptr(attrGSISK), KeyType: types.KeyTypeRange},
	}
}

func listIndexProjection() *types.Projection {
	return &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: ListAttributes}
}

// listIndexWait bounds how long addListIndex waits for the index to be
// built; a process started again waits anew.
const listIndexWait = 2 * time.Minute

// addListIndex adds the GSI IndexName to the existing table name when it
// lacks it, and waits until the GSI is active (at most listIndexWait).
func addListIndex(ctx context.Context, client *dynamodb.Client, name string) error {
	const op = "dynamostore: add list index to"
	status, err := listIndexStatus(ctx, client, name)
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, name, err)
	}
	if status == "" {
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            &name,
			AttributeDefinitions: attributeDefinitions(),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName:  ptr(IndexName),
				KeySchema:  listIndexKeys(),
				Projection: listIndexProjection(),
			}}},
		})
		if err != nil {
			// Another process opening the table may have added it first:
			// then there is only the waiting left.
			if st, serr := listIndexStatus(ctx, client, name); serr != nil || st == "" {
				return fmt.Errorf("%s %s: %w", op, name, err)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, listIndexWait)
	defer cancel()
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		status, err := listIndexStatus(ctx, client, name)
		if err != nil {
			return fmt.Errorf("%s %s: %w", op, name, err)
		}
		if status == types.IndexStatusActive {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s %s: waiting until %s is active (%s): %w", op, name, IndexName, status, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// listIndexStatus returns the status of the table's GSI IndexName; "" when
// the table has none.
func listIndexStatus(ctx context.Context, client *dynamodb.Client, name string) (types.IndexStatus, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		return "", err
	}
	for _, gsi := range out.Table.GlobalSecondaryIndexes {
		if gsi.IndexName != nil && *gsi.IndexName == IndexName {
			return gsi.IndexStatus, nil
		}
	}
	return "", nil
}
