package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the table a Store needs, as the CDK stack defines
// it: partition key pk (S), sort key sk (S), on-demand billing, the GSI
// byCreated on gsi1pk (S) / gsi1sk (S) projecting all attributes, and TTL
// on the attribute ttl. It waits until the table is active. A table of
// that name that exists already is left as it is. Tests and the local
// runtime's DynamoDB mode use it; on AWS the stack creates the table.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	s := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &name,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: ptr(attrPK), AttributeType: s},
			{AttributeName: ptr(attrSK), AttributeType: s},
			{AttributeName: ptr(attrGSIPK), AttributeType: s},
			{AttributeName: ptr(attrGSISK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: ptr(attrPK), KeyType: types.KeyTypeHash},
			{AttributeName: ptr(attrSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: ptr(IndexName),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: ptr(attrGSIPK), KeyType: types.KeyTypeHash},
				{AttributeName: ptr(attrGSISK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
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
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               &name,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: ptr(attrTTL), Enabled: ptr(true)},
	})
	if err != nil {
		return fmt.Errorf("dynamostore: create table %s: enable TTL: %w", name, err)
	}
	return nil
}
