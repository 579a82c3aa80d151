"""Components: functions returning rx.Component."""
