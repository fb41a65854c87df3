from tortoise import migrations
from tortoise.migrations import operations as ops
from orm.outbox_models import MailStatus
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_list_indexes')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='MailOutbox',
            name='status',
            field=fields.CharEnumField(default=MailStatus.QUEUED, description='QUEUED: QUEUED\nSENT: SENT\nFAILED: FAILED\nSUPERSEDED: SUPERSEDED\nDELAYED: DELAYED\nCONFIG_ERROR: CONFIG_ERROR', enum_type=MailStatus, max_length=16),
        ),
        ops.AddIndex(
            model_name='MailOutbox',
            index=Index(fields=['followup_id', 'recipient', 'status']),
        ),
    ]
