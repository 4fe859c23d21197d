"""On-demand measurements; they print figures and assert nothing about speed."""
