# Attribution moved to the insights app: only Django's model state changes here; the table
# is kept and renamed by insights.0001_initial.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("experiments", "0002_attribution"),
        ("insights", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Attribution")]),
    ]
