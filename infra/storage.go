package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// DeadLetterRetentionDays is how long an unrecorded terminal-state event
// waits in the dead-letter queue for an operator to replay it: SQS's
// maximum, so that an alarm raised before a long weekend is not lost.
const DeadLetterRetentionDays = 14

// newStatusTable defines the table of status records, with the list index
// (IndexName, and PreviousIndexName too while cfg.KeepPreviousListIndex
// keeps it), and returns it with the name of the index the status function
// lists monitors with: the previous one while it is kept.
//
// The records hold what monitors were started with, webhook URLs (whose
// paths are often their credentials) and phone numbers among them, so the
// table is encrypted with a key of its own (table.EncryptionKey()) rather
// than DynamoDB's AWS-owned default: every use of it is in CloudTrail, its
// policy decides who can read the records, and disabling it makes them
// unreadable. It is kept or deleted with the table (removal), since a
// retained table whose key is gone cannot be read.
func newStatusTable(stack awscdk.Stack, cfg Config, removal awscdk.RemovalPolicy) (table awsdynamodb.Table, listIndex string) {
	key := awskms.NewKey(stack, jsii.String("TableKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the stepmon status table"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	table = awsdynamodb.NewTable(stack, jsii.String("Table"), &awsdynamodb.TableProps{
		Encryption:    awsdynamodb.TableEncryption_CUSTOMER_MANAGED,
		EncryptionKey: key,
		PartitionKey:  &awsdynamodb.Attribute{Name: jsii.String("pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:       &awsdynamodb.Attribute{Name: jsii.String("sk"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:   awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{
			PointInTimeRecoveryEnabled: jsii.Bool(true),
		},
		TimeToLiveAttribute: jsii.String("ttl"),
		RemovalPolicy:       removal,
		// RETAIN keeps the table when the stack goes; deletion protection
		// also refuses a DeleteTable from the console or CLI. Deleting the
		// table on purpose means turning it off first (docs/deploy.md).
		// A destroyData stack's table is deleted with the stack.
		DeletionProtection: jsii.Bool(!cfg.DestroyData),
	})
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:        jsii.String(IndexName),
		PartitionKey:     &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:          &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType:   awsdynamodb.ProjectionType_INCLUDE,
		NonKeyAttributes: jsii.Strings(ListIndexAttributes...),
	})
	if !cfg.KeepPreviousListIndex {
		return table, IndexName
	}
	table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:      jsii.String(PreviousIndexName),
		PartitionKey:   &awsdynamodb.Attribute{Name: jsii.String("gsi1pk"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:        &awsdynamodb.Attribute{Name: jsii.String("gsi1sk"), Type: awsdynamodb.AttributeType_STRING},
		ProjectionType: awsdynamodb.ProjectionType_ALL,
	})
	return table, PreviousIndexName
}

// newTopics defines the alert topic, to which monitors alert, and the alarm
// topic, to which the stack's alarms go, both encrypted with the returned
// key. CloudWatch alarms may use that key (the AWS-managed SNS key does not
// let CloudWatch publish).
func newTopics(stack awscdk.Stack, removal awscdk.RemovalPolicy) (alerts, alarms awssns.Topic, key awskms.Key) {
	key = awskms.NewKey(stack, jsii.String("AlertKey"), &awskms.KeyProps{
		Description:       jsii.String("Encrypts the stepmon alert and alarm topics"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     removal,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}), nil)
	alerts = awssns.NewTopic(stack, jsii.String("AlertTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("stepmon alerts"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	// The alarms have a topic of their own: a monitor's alert subscribers
	// are not operators, and operators need not hear every monitor.
	alarms = awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("stepmon operational alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	alarms.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sns:Publish"),
		Resources:  &[]*string{alarms.TopicArn()},
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": stack.Account()},
		},
	}))
	return alerts, alarms, key
}

// newDeadLetterQueue defines the queue of the terminal-state events that
// were not recorded. Both senders (the terminal-state rule and Lambda, for
// the status function's asynchronous invocations) put the original event in
// the queue (with the error in message attributes), so a message can be
// replayed by invoking the status function with its body. SQS-managed
// encryption, which EventBridge and Lambda can write to without a key
// policy.
func newDeadLetterQueue(stack awscdk.Stack, removal awscdk.RemovalPolicy) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("TerminalStateDeadLetters"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(DeadLetterRetentionDays)),
		RemovalPolicy:   removal,
	})
}
