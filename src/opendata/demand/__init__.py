"""供需对接: requests for data that is not open yet, their support and their answers.

Any signed-in person may ask for data; the requests are public; others add their
support (one vote per person); administrators answer and mark a request planned,
published (naming the dataset) or declined.
"""
