package checks_test

import (
	"context"
	"fmt"

	"github.com/stepmon/stepmon/internal/checks"
	"github.com/stepmon/stepmon/internal/fakegithub"
	"github.com/stepmon/stepmon/internal/monitor"
)

func ExampleNewGitHub() {
	api := fakegithub.New() // stands for api.github.com
	defer api.Close()
	api.AddRepo(fakegithub.Repo{Owner: "octo", Name: "big", OpenIssues: 210, OpenPulls: 40})

	gh, err := checks.NewGitHub(checks.GitHubOptions{BaseURL: api.BaseURL()})
	if err != nil {
		panic(err)
	}
	req := monitor.CheckRequest{Number: 1, Target: monitor.Target{Type: monitor.TargetGitHub, Repo: "octo/big", MinOpenIssues: 200}}
	obs, err := gh.Check(context.Background(), req)
	if err != nil {
		panic(err)
	}
	fmt.Println(*obs.OpenIssues, obs.ConditionMet)
	fmt.Println(obs.Detail)

	// The next check carries the memo: unchanged pages cost nothing.
	req.Number, req.Memo = 2, obs.Memo
	obs, _ = gh.Check(context.Background(), req)
	fmt.Println(obs.Detail)
	// Output:
	// 210 true
	// 210 open issues in octo/big (alert at 200 or more)
	// 210 open issues in octo/big (alert at 200 or more); unchanged since the last check
}

func ExampleSimulated() {
	checker := checks.Simulated{}
	for n := 1; n <= 2; n++ {
		obs, _ := checker.Check(context.Background(), monitor.CheckRequest{Number: n,
			Target: monitor.Target{Type: monitor.TargetSimulated, CompleteAfterChecks: 2}})
		fmt.Println(obs.Status, obs.Done)
	}
	// Output:
	// Running false
	// Completed true
}

func ExampleNewHTTPJob() {
	checker := checks.NewHTTPJob(checks.HTTPJobOptions{}) // strict egress, as on AWS
	_, err := checker.Check(context.Background(), monitor.CheckRequest{Number: 1,
		Target: monitor.Target{Type: monitor.TargetHTTP, URL: "http://169.254.169.254/latest/meta-data/"}})
	fmt.Println(err)
	// Output:
	// http: target http://169.254.169.254/latest/meta-data/ refused 169.254.169.254: link-local address (169.254.0.0/16, includes the instance metadata service); this deployment does not allow private targets
}
