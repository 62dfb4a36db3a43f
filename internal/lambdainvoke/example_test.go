package lambdainvoke_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/stepmon/stepmon/internal/lambdainvoke"
)

type greeting struct {
	Name string `json:"name"`
}

// NotFoundError is a handler's own error; the caller sees its type's name.
type NotFoundError struct{}

func (NotFoundError) Error() string { return "nobody to greet" }

// A handler registered by name is invoked with a JSON payload and answers
// JSON, or fails with the error name Step Functions would see.
func ExampleRegistry_Invoke() {
	r := lambdainvoke.NewRegistry()
	r.Register("greeter", func(_ context.Context, in greeting) (greeting, error) {
		if in.Name == "" {
			return greeting{}, NotFoundError{}
		}
		return greeting{Name: "hello, " + in.Name}, nil
	})

	out, err := r.Invoke(context.Background(), lambdainvoke.FunctionArn("greeter"), []byte(`{"name":"ada"}`))
	fmt.Println(string(out), err)

	_, err = r.Invoke(context.Background(), "greeter", []byte(`{}`))
	var fe *lambdainvoke.FunctionError
	if errors.As(err, &fe) {
		fmt.Println(fe.ErrorType, fe.ErrorMessage)
	}
	// Output:
	// {"name":"hello, ada"} <nil>
	// NotFoundError nobody to greet
}
