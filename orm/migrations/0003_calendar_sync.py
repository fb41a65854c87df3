from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.outbox_models import OutboxStatus
from orm.sync_models import AccountState, JobOp, ObjectState
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_mail_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('associate', fields.ForeignKeyField('models.Associate', source_field='associate_id', null=True, db_constraint=True, to_field='id', related_name='calendar_accounts', on_delete=OnDelete.CASCADE)),
                ('resource', fields.ForeignKeyField('models.Resource', source_field='resource_id', null=True, db_constraint=True, to_field='id', related_name='calendar_accounts', on_delete=OnDelete.CASCADE)),
                ('server_url', fields.CharField(max_length=1000)),
                ('username', fields.CharField(max_length=320)),
                ('secret_enc', fields.TextField(null=True, description='encrypted password or token', unique=False)),
                ('secret_env', fields.CharField(null=True, description='env variable name', max_length=200)),
                ('calendar_url', fields.CharField(null=True, max_length=1000)),
                ('calendar_name', fields.CharField(null=True, max_length=300)),
                ('state', fields.CharEnumField(default=AccountState.OK, description='OK: OK\nFAILED: FAILED', enum_type=AccountState, max_length=6)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('failed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('supports_vtodo', fields.BooleanField(null=True)),
                ('supports_sync', fields.BooleanField(null=True, description='sync-collection works')),
                ('sync_token', fields.TextField(null=True, unique=False)),
                ('reconciled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'calendar_account', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A CalDAV calendar of an associate or a resource, and the credentials to reach it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CalendarObject',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('account', fields.ForeignKeyField('models.CalendarAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='objects', on_delete=OnDelete.CASCADE)),
                ('followup_id', fields.IntField()),
                ('uid', fields.CharField(max_length=255)),
                ('name', fields.CharField(max_length=200)),
                ('wanted', fields.BooleanField(default=True, description='false once queued for removal')),
                ('state', fields.CharEnumField(default=ObjectState.PENDING, description='PENDING: PENDING\nSYNCED: SYNCED\nFAILED: FAILED', enum_type=ObjectState, max_length=7)),
                ('error', fields.TextField(null=True, unique=False)),
                ('etag', fields.CharField(null=True, max_length=255)),
                ('pushed_ics', fields.TextField(null=True, description='the content last written', unique=False)),
                ('content_hash', fields.CharField(null=True, description='last queued content', max_length=64)),
                ('synced_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'calendar_object', 'app': 'models', 'unique_together': (('account', 'name'),), 'indexes': [Index(fields=['followup_id'])], 'pk_attr': 'id', 'table_description': 'One follow-up in one calendar: the object name, its ETag and how the sync went.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SyncJob',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('status', fields.CharEnumField(default=OutboxStatus.QUEUED, description='QUEUED: QUEUED\nSENT: SENT\nFAILED: FAILED', enum_type=OutboxStatus, max_length=6)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('claimed_by', fields.CharField(null=True, max_length=100)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('account', fields.ForeignKeyField('models.CalendarAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='jobs', on_delete=OnDelete.CASCADE)),
                ('followup_id', fields.IntField(description='the follow-up, kept after it is deleted')),
                ('name', fields.CharField(description='object name in the calendar', max_length=200)),
                ('op', fields.CharEnumField(description='PUT: PUT\nDELETE: DELETE', enum_type=JobOp, max_length=6)),
                ('ics', fields.TextField(null=True, description='the object to PUT', unique=False)),
            ],
            options={'table': 'sync_job', 'app': 'models', 'indexes': [Index(fields=['status', 'next_attempt_at']), Index(fields=['account_id', 'name', 'status'])], 'pk_attr': 'id', 'table_description': 'One PUT or DELETE of one object in one calendar, queued in the transaction of the change.'},
            bases=['Model'],
        ),
    ]
