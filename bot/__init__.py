"""hirebot: hire on OpenTrain from Slack."""
