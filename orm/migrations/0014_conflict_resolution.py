from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_pull_account_settings')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CalendarPull',
            name='recurrence_id',
            field=fields.DatetimeField(null=True, description='CONFLICT: the occurrence the calendar changed (null: all)', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='CalendarPull',
            name='following',
            field=fields.BooleanField(default=False, description='CONFLICT: the change was to that occurrence and the following'),
        ),
        ops.AddField(
            model_name='CalendarPull',
            name='resolved_at',
            field=fields.DatetimeField(null=True, description='CONFLICT: when it was resolved', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='CalendarPull',
            name='resolution',
            field=fields.CharField(null=True, description='CONFLICT: the side taken (CRM or CALENDAR)', max_length=8),
        ),
        ops.AddField(
            model_name='CalendarPull',
            name='resolved_by_id',
            field=fields.IntField(null=True, description='CONFLICT: the associate who did'),
        ),
    ]
