package sfnapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/stepmon/stepmon/internal/engine"
)

// arnResourceActivity is the resource type of an activity's ARN.
const arnResourceActivity = "activity"

// validResourceArn checks the resourceArn of TagResource, UntagResource
// and ListTagsForResource: required, 1 to 256 characters, and the ARN of
// a resource AWS tags, a state machine or an activity (InvalidArn
// otherwise, as validArn words it: an execution's ARN is "Resource type
// not valid in this context: execution"). Activities do not exist
// locally, so an activity's ARN passes here and is ResourceNotFound.
func validResourceArn(member *string) error {
	if member != nil {
		if parts := strings.Split(*member, ":"); len(parts) > 5 && parts[5] == arnResourceActivity {
			return validArn("resourceArn", member, arnResourceActivity)
		}
	}
	return validArn("resourceArn", member, arnResourceSM)
}

// tagError maps a Backend's error of a tagging operation on arn: AWS
// answers ResourceNotFound, not StateMachineDoesNotExist, for an ARN of
// no state machine (a version's or an alias's too: none is published
// locally), and TooManyTags names the resource.
func tagError(err error, arn string) error {
	switch {
	case errors.Is(err, engine.ErrStateMachineDoesNotExist):
		return resourceNotFound(arn)
	case errors.Is(err, engine.ErrTooManyTags):
		return tooManyTags(arn)
	}
	return toAPIError(err, arn)
}

// resourceNotFound is AWS's ResourceNotFound for an ARN that names no
// resource.
func resourceNotFound(arn string) *Error {
	return apiErrorf(ErrTypeResourceNotFound, "Resource not found: '%s'", arn)
}

// tagResourceInput is TagResource's request.
type tagResourceInput struct {
	ResourceArn *string `json:"resourceArn"`
	Tags        []tag   `json:"tags"`
}

// tagResource adds tags to a state machine, replacing the values of
// keys it has (keys are case-sensitive; a key given twice keeps its last
// value). Over 50 tags after the merge is TooManyTags, and nothing
// changes. The request's checks come first, the resource's existence
// after them, as in every other operation.
func (h *Handler) tagResource(ctx context.Context, in *tagResourceInput) (any, error) {
	errs := []error{validResourceArn(in.ResourceArn)}
	if in.Tags == nil {
		errs = append(errs, constraintf("Value null at 'tags' failed to satisfy constraint: Member must not be null"))
	}
	if err := checkAll(append(errs, tagMembers(in.Tags)...)...); err != nil {
		return nil, err
	}
	arn := *in.ResourceArn
	if err := h.backend.TagResource(ctx, arn, engineTags(in.Tags)); err != nil {
		return nil, tagError(err, arn)
	}
	return struct{}{}, nil
}

// untagResourceInput is UntagResource's request.
type untagResourceInput struct {
	ResourceArn *string  `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

// untagResource removes the tags of the given keys; a key the machine
// does not have is no error, as on AWS.
func (h *Handler) untagResource(ctx context.Context, in *untagResourceInput) (any, error) {
	errs := []error{validResourceArn(in.ResourceArn)}
	if in.TagKeys == nil {
		errs = append(errs, constraintf("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null"))
	}
	for i, k := range in.TagKeys {
		errs = append(errs, lengthIn(fmt.Sprintf("tagKeys.%d.member", i+1), &k, 1, maxTagKeyLen, false))
	}
	if err := checkAll(errs...); err != nil {
		return nil, err
	}
	arn := *in.ResourceArn
	if err := h.backend.UntagResource(ctx, arn, in.TagKeys); err != nil {
		return nil, tagError(err, arn)
	}
	return struct{}{}, nil
}

// listTagsForResourceInput is ListTagsForResource's request.
type listTagsForResourceInput struct {
	ResourceArn *string `json:"resourceArn"`
}

// tagOutput is a Tag in an answer.
type tagOutput struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type listTagsForResourceOutput struct {
	Tags []tagOutput `json:"tags"`
}

// listTagsForResource lists the tags of a state machine, all of them (the
// operation does not page; a resource has at most 50). They are in key
// order, byte by byte ("Env" before "env"): AWS does not document an
// order, and this one is the same in both stores, after a restart, and
// whichever request set a tag, so a tool that compares lists (Terraform's
// refresh) sees no change where there was none.
func (h *Handler) listTagsForResource(ctx context.Context, in *listTagsForResourceInput) (any, error) {
	if err := validResourceArn(in.ResourceArn); err != nil {
		return nil, err
	}
	arn := *in.ResourceArn
	tags, err := h.backend.ListTagsForResource(ctx, arn)
	if err != nil {
		return nil, tagError(err, arn)
	}
	out := listTagsForResourceOutput{Tags: make([]tagOutput, 0, len(tags))}
	for _, t := range tags {
		out.Tags = append(out.Tags, tagOutput{t.Key, t.Value})
	}
	return out, nil
}
