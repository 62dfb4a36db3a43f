package sfnapi

import "context"

// listStateMachineVersionsInput is ListStateMachineVersions' request.
type listStateMachineVersionsInput struct {
	StateMachineArn *string `json:"stateMachineArn"`
	MaxResults      int     `json:"maxResults"`
	NextToken       *string `json:"nextToken"`
}

// stateMachineVersionListItem is a StateMachineVersionListItem; none is
// ever listed, as no versions are published locally.
type stateMachineVersionListItem struct {
	StateMachineVersionArn string `json:"stateMachineVersionArn"`
	CreationDate           epoch  `json:"creationDate"`
}

type listStateMachineVersionsOutput struct {
	StateMachineVersions []stateMachineVersionListItem `json:"stateMachineVersions"`
	NextToken            string                        `json:"nextToken,omitempty"`
}

// listStateMachineVersions lists the versions of a state machine: none,
// exactly, since the local runtime publishes none (publish is ignored).
// Tools that read a machine's versions after describing it, such as
// Terraform's aws_sfn_state_machine, need the operation all the same.
// The request is checked as AWS does (the ARN, maxResults, and a
// nextToken, which can only be a made-up one: InvalidToken). The API
// model lists no StateMachineDoesNotExist for the operation, so an
// unknown machine has no versions either, as DeleteStateMachine deletes
// an unknown machine without an error.
func (h *Handler) listStateMachineVersions(_ context.Context, in *listStateMachineVersionsInput) (any, error) {
	if err := checkAll(validArn("stateMachineArn", in.StateMachineArn, arnResourceSM), validPageSize(in.MaxResults),
		validNextToken(in.NextToken, maxPageToken)); err != nil {
		return nil, err
	}
	if _, err := h.tokens.open(tokenScope("ListStateMachineVersions", *in.StateMachineArn), in.NextToken); err != nil {
		return nil, err
	}
	return listStateMachineVersionsOutput{StateMachineVersions: []stateMachineVersionListItem{}}, nil
}
