// Package local runs the whole monitor service on one machine: the code
// behind stepmon serve and stepmon demo.
//
// New wires the pieces that run on AWS to their local stand-ins:
//
//   - the workflow, statemachine.asl.json, runs on the ASL engine (package
//     engine), which keeps executions, history and durable timers in a
//     SQLite database under Config.DataDir (package sqlitestore);
//   - the four Lambdas (start, check, alert, status) are the same handler
//     code, registered in a lambdainvoke.Registry and invoked through
//     aws-lambda-go's JSON path by the engine's lambda:invoke integration;
//   - the API Gateway routes (/monitors...) are served by building API
//     Gateway proxy events from the HTTP requests and invoking the start
//     and status functions with them;
//   - the Step Functions API (awsJson1_0, POST /) is served over the
//     engine, and the start function reaches the same handler through the
//     real aws-sdk-go-v2 sfn client, whose transport hands each request
//     to it in-process rather than through the listener (inProcess);
//   - the EventBridge rule that tells the status function about executions
//     that ended outside the workflow (StopExecution, timeouts) is a hook
//     on the engine store's commits, with a sweep at start-up for
//     notifications a crash interrupted;
//   - alerts go to an outbox (a JSON-lines file under DataDir and the log)
//     unless a monitor names a webhook; outbound requests may reach
//     loopback and private addresses.
//
// Durability: every transition of an execution commits together with its
// timer; after a crash Serve re-arms every pending timer from the database
// (Engine.Recover) before it accepts requests.
package local
