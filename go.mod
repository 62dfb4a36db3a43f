module github.com/stepmon/stepmon

go 1.26

require (
	github.com/recolabs/gnata v0.2.1 // indirect
	github.com/theory/jsonpath v0.11.0 // indirect
	github.com/tidwall/gjson v1.18.0 // indirect
	github.com/tidwall/match v1.1.1 // indirect
	github.com/tidwall/pretty v1.2.1 // indirect
)
